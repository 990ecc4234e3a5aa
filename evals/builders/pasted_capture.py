"""Capture a pasted case's report by crashing the reported release here, in the case's shape.

A case with a `trigger` (see `evals/builders/pasted.py`) gets its `report.txt` from this
module, never from a hand: the reported version's source distribution (the pinned one) is
installed into a virtual environment of its own, the trigger is run there the way the case's
`shape` says (a script, the REPL, doctest, pytest in a `--tb` style, unittest, IPython, inside
an `asyncio.TaskGroup`), and what the tool printed is the report. Frames are under the
environment's `site-packages/`, the caller's code under a scratch checkout elsewhere, as on a
reporter's machine. Two shapes are a reporter's edits of a captured script run, by fixed rules:
`elided` (the frames between the first and the last two replaced by `...`) and `last-frame`
(the header, the last frame and the exception).

    python -m evals.builders.pasted_capture [--workdir DIR] CASE ...
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from agent.errors import FixloopError
from evals.builders.pasted import (
    DEFAULT_WORKDIR,
    ROOT,
    BuildError,
    PastedCase,
    pasted_cases,
    sdist_archive,
)

CHECKOUT = Path("/tmp/pasted-capture")
"""Where the reporter's own code is written and run: another machine's checkout."""
_TOOLS = {
    "pytest-long": ["pytest"],
    "pytest-short": ["pytest"],
    "pytest-line": ["pytest"],
    "pytest-native": ["pytest"],
    "ipython8": ["ipython>=8"],
    "ipython7": ["ipython==7.34.0"],
}


def capture(case: PastedCase, workdir: Path) -> str:
    """What running the case's trigger against its reported release printed, in its shape."""
    if case.trigger is None:
        raise BuildError(f"{case.name}: no trigger: its report is the reporter's own text")
    venv = _environment(case, workdir)
    checkout = CHECKOUT / case.name
    checkout.mkdir(parents=True, exist_ok=True)
    python = str(venv / "bin" / "python")
    trigger = case.trigger.strip("\n") + "\n"
    shape = case.shape
    if shape in ("python", "elided", "last-frame"):
        (checkout / "app.py").write_text(trigger)
        printed = _run([python, "app.py"], checkout)
        if shape == "elided":
            return elided(printed)
        return last_frame_only(printed) if shape == "last-frame" else printed
    if shape == "repl":
        return _run([python, "-i", "-q"], checkout, stdin=trigger)
    if shape == "doctest":
        session = "".join(f">>> {line}\n" for line in trigger.splitlines())
        (checkout / "usage.txt").write_text(f"Using {case.project}:\n\n{session}")
        return _run([python, "-m", "doctest", "usage.txt"], checkout)
    if shape.startswith("pytest-"):
        test = f"def test_{_slug(case.name)}():\n{textwrap.indent(trigger, '    ')}"
        (checkout / "test_repro.py").write_text(test)
        style = shape.removeprefix("pytest-")
        argv = [python, "-m", "pytest", "-p", "no:cacheprovider", f"--tb={style}"]
        return _run([*argv, "test_repro.py"], checkout)
    if shape == "unittest":
        body = textwrap.indent(trigger, " " * 8)
        test = (
            f"import unittest\n\n\nclass Repro(unittest.TestCase):\n    def test_it(self):\n{body}"
        )
        (checkout / "test_repro.py").write_text(test)
        return _run([python, "-m", "unittest", "test_repro"], checkout)
    if shape in ("ipython8", "ipython7"):
        colors = "Linux" if shape == "ipython7" else "neutral"
        return _run([python, "-m", "IPython", f"--colors={colors}", "-c", trigger], checkout)
    if shape == "exception-group":
        job = textwrap.indent(trigger, "    ")
        script = (
            f"import asyncio\n\n\nasync def job():\n{job}\n\n"
            "async def main():\n    async with asyncio.TaskGroup() as group:\n"
            "        group.create_task(job())\n\n\nasyncio.run(main())\n"
        )
        (checkout / "app.py").write_text(script)
        return _run([python, "app.py"], checkout)
    raise BuildError(f"{case.name}: shape {shape} is not captured, only pasted")


def elided(text: str) -> str:
    """A reporter's edit: the frames between the first and the last two replaced by `...`."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith('  File "')]
    if len(starts) < 4:
        return text
    first_end, kept = starts[1], starts[-2]
    return "\n".join([*lines[:first_end], "  ...", *lines[kept:]]) + "\n"


def last_frame_only(text: str) -> str:
    """A reporter's edit: the header, the last frame and the exception, nothing else."""
    lines = text.splitlines()
    header = max(i for i, line in enumerate(lines) if line.startswith("Traceback"))
    last = max(i for i, line in enumerate(lines) if line.startswith('  File "'))
    return "\n".join([lines[header], *lines[last:]]) + "\n"


def _environment(case: PastedCase, workdir: Path) -> Path:
    """A virtualenv with the reported release (its pinned sdist) and the shape's tool."""
    target = workdir / f"{case.project}-{case.version}"
    venv = target / f"capture-{case.shape}"
    if not (venv / "ready").is_file():
        archive = sdist_archive(case.project, case.version, case.version_sha256, target / "sdist")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        _checked([*pip, str(archive), *_TOOLS.get(case.shape, [])])
        (venv / "ready").write_text(f"{case.project} {case.version}\n")
    return venv


def _run(argv: list[str], cwd: Path, stdin: str | None = None) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["TERM"] = "xterm-256color"
    done = subprocess.run(
        argv, cwd=cwd, input=stdin, capture_output=True, text=True, env=env, timeout=300
    )
    return done.stdout + done.stderr


def _checked(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        raise BuildError(f"{' '.join(argv[:5])}...: {done.stderr.strip()[-400:]}")


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.builders.pasted_capture", description=__doc__
    )
    parser.add_argument("cases", nargs="+", help="case names")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args(argv)
    try:
        for case in pasted_cases(ROOT, args.cases):
            text = capture(case, args.workdir)
            if "Traceback" not in text and "Error" not in text:
                raise BuildError(f"{case.name}: the trigger did not crash:\n{text[-400:]}")
            (ROOT / case.name / "report.txt").write_text(text)
            print(f"{case.name}: {len(text.splitlines())} lines ({case.shape})")
    except FixloopError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
