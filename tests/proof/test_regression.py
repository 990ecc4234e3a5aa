"""Where the regression test goes, what it is named, and which captured values it keeps."""

from __future__ import annotations

from agent.domain import ExceptionInfo, Frame, Incident, Reproduction
from agent.proof.regression import masked, place, write

SOURCE = '''"""Reproduction of incident fx-1: KeyError: 'alice@shop.example' in lookup.
"""

import re

from app.users import lookup


def test_reproduces_fx_1():
    try:
        lookup(users={'name': 'Alice Smith', 'plan': 'gold'}, key='Alice Smith')
    except Exception as error:
        assert type(error).__name__ == 'KeyError' and re.match(
            "'Alice Smith'", str(error)
        ), f"not the incident's KeyError: {type(error).__name__}: {error}"
        raise
'''


def reproduction(filename: str = "test_fixloop_repro_fx_1.py") -> Reproduction:
    return Reproduction(
        filename=filename,
        source=SOURCE,
        nodeid=f"{filename}::test_reproduces_fx_1",
        target_file="app/users.py",
        target_function="Directory.lookup",
        reproduced=True,
    )


def incident() -> Incident:
    frame = Frame(
        filename="app/users.py",
        function="lookup",
        vars={"users": "{'name': 'Alice Smith', 'plan': 'gold'}", "key": "'Alice Smith'"},
    )
    crash = ExceptionInfo(type="KeyError", value="'Alice Smith'", frames=[frame])
    return Incident(
        id="fx-1", source="sentry_event", fingerprint="f", title="t", exceptions=[crash]
    )


def test_the_test_goes_beside_the_tests_of_the_crashing_module() -> None:
    files = ["app/users.py", "tests/unit/test_users.py", "tests/test_a.py", "tests/test_b.py"]
    path, name = place(files, reproduction(), "builtins.KeyError")
    assert path == "tests/unit/test_lookup_key_error.py"
    assert name == "test_lookup_does_not_raise_key_error"


def test_else_in_the_folder_with_most_tests_in_the_repository_s_naming() -> None:
    files = ["app/users.py", "app/a_test.py", "checks/b_test.py", "checks/c_test.py"]
    path, _ = place(files, reproduction(), "ZeroDivisionError")
    assert path == "checks/lookup_zero_division_error_test.py"
    assert place(["app/users.py"], reproduction(), "ValueError")[0] == (
        "test_lookup_value_error.py"
    )


def test_a_taken_name_gets_a_number_and_fixtures_keep_their_folder() -> None:
    files = ["tests/test_users.py", "tests/test_lookup_key_error.py"]
    assert place(files, reproduction(), "KeyError")[0] == "tests/test_lookup_key_error_2.py"
    beside = reproduction("pkg/tests/test_fixloop_fixture_fx_1.py")
    assert place(files, beside, "KeyError")[0] == "pkg/tests/test_lookup_key_error.py"


def test_the_rewritten_test_names_the_incident_without_its_data() -> None:
    test = write(reproduction(), incident(), "tests/test_lookup_key_error.py", "test_x", str.upper)
    assert test.nodeid == "tests/test_lookup_key_error.py::test_x"
    assert "TEST_X()" in test.source  # passed through the scrub function
    assert "ALICE@SHOP.EXAMPLE" not in test.source
    assert test.source.startswith('"""REGRESSION TEST: DIRECTORY.LOOKUP RAISED KEYERROR')


def test_captured_values_are_masked_but_not_keys_or_the_message_check() -> None:
    text, count = masked(SOURCE, incident())
    assert count == 3
    assert "lookup(users={'name': 'Xxxxx Xxxxx', 'plan': 'xxxx'}, key='Xxxxx Xxxxx')" in text
    assert "re.match(\n            \"'Alice Smith'\"" in text
    assert "'KeyError'" in text
    assert masked(text, incident()) == (text, 0)
