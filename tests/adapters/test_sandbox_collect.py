"""The sandbox lists what pytest collects without running a test, in each mode that works."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from agent.errors import SandboxError
from tests.support.sandbox import FAST, MODES
from tools.sandbox import SandboxMode, make_sandbox

SUITE = {
    "tests/test_a.py": """
        import pytest

        from pathlib import Path

        @pytest.mark.parametrize("n", [1, 2])
        def test_x(n):
            Path(__file__).with_name("ran.txt").write_text("a collected test must not run")

        class TestThing:
            def test_m(self):
                Path(__file__).with_name("ran.txt").write_text("nor this one")
    """,
    "tests/test_broken.py": "import no_such_module_here\n",
    "other/test_b.py": "def test_b():\n    pass\n",
}


def write(root: Path) -> Path:
    for name, text in SUITE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.mark.parametrize("mode", MODES)
def test_collect_lists_node_ids_and_files_that_fail_to_collect(
    tmp_path: Path, mode: SandboxMode
) -> None:
    sandbox = make_sandbox(mode, sys.executable, FAST, 60, 2048, test_paths=["tests"])

    collected = sandbox.collect(write(tmp_path))

    assert collected == [
        "tests/test_a.py::test_x[1]",
        "tests/test_a.py::test_x[2]",
        "tests/test_a.py::TestThing::test_m",
        "tests/test_broken.py",
    ]
    assert not (tmp_path / "tests" / "ran.txt").exists()
    assert sandbox.collect(tmp_path, ["other/test_b.py"]) == ["other/test_b.py::test_b"]


def test_collect_of_an_empty_suite_is_empty(tmp_path: Path) -> None:
    assert make_sandbox("subprocess", sys.executable, FAST, 60, 2048).collect(tmp_path) == []


def test_collect_that_cannot_start_pytest_is_a_sandbox_error(tmp_path: Path) -> None:
    sandbox = make_sandbox("subprocess", sys.executable, ["--no-such-option"], 60, 2048)
    with pytest.raises(SandboxError):
        sandbox.collect(tmp_path)


def test_a_collected_list_forged_by_the_code_under_test_is_refused(tmp_path: Path) -> None:
    """Collecting imports the test modules: one that writes its own list to the report fd."""
    (tmp_path / "test_forge.py").write_text(
        "import os\n"
        "for fd in map(int, os.listdir('/proc/self/fd')):\n"
        "    try:\n"
        '        os.write(fd, b\'{"outcomes": {}, "collected": [], "exit_code": 0}\\n\')\n'
        "    except OSError:\n"
        "        pass\n"
        "def test_kept():\n"
        "    pass\n"
    )
    sandbox = make_sandbox("unsafe-subprocess", sys.executable, FAST, 60, 2048)
    with pytest.raises(SandboxError, match="cannot be trusted"):
        sandbox.collect(tmp_path)
