"""How tests run the real sandbox: pytest without the outer plugins, in each mode that works."""

from __future__ import annotations

import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tools.sandbox import bwrap_problem

# The outer environment autoloads heavy pytest plugins; the target repos here need none of them.
FAST = [arg for ep in entry_points(group="pytest11") for arg in ("-p", f"no:{ep.name}")]
needs_bwrap = pytest.mark.skipif(bwrap_problem() is not None, reason="bubblewrap does not work")
MODES = [pytest.param("bwrap", marks=needs_bwrap), "subprocess"]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


# A test module whose tests end in every outcome pytest knows.
OUTCOMES = """
    import pytest

    @pytest.fixture
    def broken():
        raise RuntimeError("setup boom")

    @pytest.fixture
    def bad_teardown():
        yield
        raise RuntimeError("teardown boom")

    def test_passes():
        assert 1 + 1 == 2

    def test_fails():
        assert 1 + 1 == 3

    def test_setup_error(broken):
        pass

    def test_teardown_error(bad_teardown):
        pass

    @pytest.mark.skip(reason="not today")
    def test_skipped():
        pass

    @pytest.mark.xfail(reason="known")
    def test_xfail():
        assert False

    @pytest.mark.xfail(reason="known")
    def test_xpass():
        pass

    @pytest.mark.parametrize("n", [1, 2])
    def test_param(n):
        assert n == 1
"""


def outcomes_of(prefix: str) -> dict[str, str]:
    """What pytest reports for each test of OUTCOMES written at `prefix` (`path::`)."""
    return {
        prefix + "test_passes": "passed",
        prefix + "test_fails": "failed",
        prefix + "test_setup_error": "error",
        prefix + "test_teardown_error": "error",
        prefix + "test_skipped": "skipped",
        prefix + "test_xfail": "skipped",
        prefix + "test_xpass": "passed",
        prefix + "test_param[1]": "passed",
        prefix + "test_param[2]": "failed",
    }
