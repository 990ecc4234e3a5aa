"""The miner's judgement of a release pair: which paths are tests and source, which functions a
fix changed, whether a failure is a crash or a wrong value; and its spec files round-trip."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from evals.builders.real import load_spec, raised_in_the_release
from evals.builders.real_mine import (
    Skip,
    changed_functions,
    is_missing_name,
    is_source_path,
    is_test_path,
    kind_of,
    spec_toml,
    suite_root,
)
from evals.runner import EvalOptions, run_eval

OLD = textwrap.dedent(
    """\
    import math

    __version__ = "1.0"


    class Size:
        unit = "B"

        def render(self, value):
            return f"{value:.1f} {self.unit}"


    def natural(value):
        if value < 1024:
            return f"{value} B"
        return f"{value / 1024:.1f} kB"
    """
)


def test_a_fix_inside_one_function_names_that_function() -> None:
    new = OLD.replace('return f"{value} B"', 'return f"{int(value)} B"')
    assert changed_functions(OLD, new) == {"natural": 1}


def test_a_method_is_named_with_its_class_and_version_or_import_lines_do_not_count() -> None:
    new = OLD.replace("{value:.1f}", "{value:.2f}").replace('"1.0"', '"1.1"')
    new = new.replace("import math", "import math\nimport sys")
    assert changed_functions(OLD, new) == {"Size.render": 1}


def test_docstrings_multi_line_imports_and_module_dunders_are_not_changes() -> None:
    documented = OLD.replace("def natural(value):\n", 'def natural(value):\n    """Old words."""\n')
    new = documented.replace("Old words.", "New words,\n    over two lines.")
    new = new.replace("import math", '"""A module."""\nfrom os import (\n    sep,\n    path,\n)')
    new = new.replace('__version__ = "1.0"', '__all__ = [\n    "Size",\n    "natural",\n]')
    assert changed_functions(documented, new) == {}
    fixed = new.replace("value < 1024", "value <= 1024")
    assert changed_functions(documented, fixed) == {"natural": 1}


def test_a_function_whose_change_is_only_its_annotations_is_not_changed() -> None:
    annotated = OLD.replace("def natural(value):", "def natural(value: float) -> str:")
    assert changed_functions(OLD, annotated) == {}
    fixed = annotated.replace("value < 1024", "value <= 1024")
    assert set(changed_functions(OLD, fixed)) == {"natural"}


def test_a_large_change_outside_any_function_is_skipped() -> None:
    extra = "\n    base = 1024\n    big = 2\n    small = 3\n    x = 4"
    new = OLD.replace('unit = "B"', 'unit = "B"' + extra)
    with pytest.raises(Skip, match="outside any function"):
        changed_functions(OLD, new)


def test_tests_and_source_are_told_apart() -> None:
    assert is_test_path("tests/test_size.py")
    assert is_test_path("src/pkg/tests/helpers.py")
    assert is_test_path("conftest.py")
    assert not is_test_path("src/pkg/size.py")
    assert is_source_path("src/pkg/size.py")
    assert not is_source_path("setup.py")
    assert not is_source_path("docs/conf.py")
    assert not is_source_path("bin/check-release.py")
    assert not is_source_path("src/pkg/_version.py")
    assert not is_source_path("tests/test_size.py")


def test_a_failure_is_a_crash_only_when_every_witness_raised() -> None:
    assert kind_of(["TypeError: unsupported operand", "KeyError: 'x'"]) == "crash"
    assert kind_of(["TypeError: unsupported operand", "AssertionError: assert 1 == 2"]) == (
        "wrong-value"
    )
    assert kind_of(["Failed: DID NOT RAISE <class 'ValueError'>"]) == "wrong-value"
    assert kind_of(["assert '1.5 B' == '1 B'"]) == "wrong-value"


def test_a_test_of_a_name_the_release_lacks_tests_a_feature() -> None:
    assert is_missing_name("AttributeError: module 'more_itertools' has no attribute 'outer'")
    assert is_missing_name("ImportError: cannot import name 'outer' from 'more_itertools'")
    assert not is_missing_name("AttributeError: 'NoneType' object has no attribute 'group'")
    assert not is_missing_name("AssertionError: assert 1 == 2")


def test_the_test_root_is_where_most_test_files_live() -> None:
    assert suite_root(["tests/test_a.py", "tests/test_b.py", "other/test_c.py"]) == "tests"
    assert suite_root(["test_top.py"]) == "."


def test_a_mined_spec_reads_back_as_the_builder_loads_it(tmp_path: Path) -> None:
    spec = {
        "id": "tiny-1.1",
        "project": "tiny",
        "kind": "wrong-value",
        "witness": ["tests/test_size.py::test_natural[1.5]"],
        "hidden": ["tests/test_size.py"],
        "deselect": [],
        "test_command": "python -m pytest -q tests",
        "deps": ["pytest==8.3.3"],
        "before": {"version": "1.0", "sha256": "a" * 64},
        "buggy": {"version": "1.1", "sha256": "b" * 64},
        "fixed": {"version": "1.2", "sha256": "c" * 64},
        "gold": {"file": "tiny/size.py", "function": "natural", "introduced_in_buggy": True},
    }
    path = tmp_path / "tiny-1.1.toml"
    path.write_text(spec_toml(spec))
    loaded = load_spec(path)
    assert (loaded.id, loaded.buggy.version, loaded.fixed.sha256) == ("tiny-1.1", "1.1", "c" * 64)
    assert loaded.witness == ("tests/test_size.py::test_natural[1.5]",)
    assert (loaded.gold_file, loaded.gold_function, loaded.introduced_in_buggy) == (
        "tiny/size.py",
        "natural",
        True,
    )


def test_a_spec_that_cannot_be_built_is_an_error_result_not_the_runs_end(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "broken-1.0.toml").write_text(
        'id = "broken-1.0"\n[buggy]\nversion = "1.0"\nwitness = []\n'
    )
    options = EvalOptions(engines=["templates"], workdir=tmp_path / "work", real_cache=tmp_path)
    report = run_eval([real], options)
    (result,) = report["cases"]
    assert (result["id"], result["status"], result["suite"]) == ("broken-1.0", "error", "real")
    assert "missing or malformed key" in result["error"]


def test_only_a_crash_with_a_frame_in_the_release_is_a_production_event(tmp_path: Path) -> None:
    spec_file = tmp_path / "tiny-1.1.toml"
    spec_file.write_text(
        spec_toml(
            {
                "id": "tiny-1.1",
                "project": "tiny",
                "kind": "crash",
                "witness": ["tests/test_size.py::test_natural"],
                "hidden": ["tests/test_size.py"],
                "test_command": "python -m pytest -q tests",
                "deps": [],
                "before": {"version": "1.0", "sha256": "a" * 64},
                "buggy": {"version": "1.1", "sha256": "b" * 64},
                "fixed": {"version": "1.2", "sha256": "c" * 64},
                "gold": {"file": "tiny/size.py", "function": "natural"},
            }
        )
    )
    spec = load_spec(spec_file)

    def event(*paths: str) -> dict[str, object]:
        frames = [{"abs_path": path} for path in paths]
        return {"exception": {"values": [{"stacktrace": {"frames": frames}}]}}

    test_frame = "/srv/app/tests/test_size.py"
    stdlib = "/usr/local/lib/python3.11/unittest/mock.py"
    assert raised_in_the_release(event(test_frame, "/srv/app/tiny/size.py"), spec)
    assert not raised_in_the_release(event(test_frame, stdlib), spec)
    assert not raised_in_the_release(event("/srv/app/tiny/tests/helpers.py", stdlib), spec)
