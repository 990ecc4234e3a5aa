"""evals/pasted: the committed specs, the builder (offline, from archives made here) and the
scoring of one case against the frames-innermost-first baseline."""

from __future__ import annotations

import argparse
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from agent.errors import FixloopError
from agent.settings import Settings
from evals.builders.pasted import (
    ROOT,
    BuildError,
    PastedCase,
    SpecError,
    build_repo,
    is_pasted,
    load_pasted,
    pasted_cases,
)
from evals.builders.pasted_capture import elided, last_frame_only
from evals.builders.pasted_score import baseline_frames, by_shape, score_case, summary
from evals.cli import eval_command
from tests.support.repo_builder import git

SHAPES_DIR = Path(__file__).parents[1] / "fixtures" / "tracebacks" / "shapes"

CALC_V1 = "def ratio(a, b):\n    if b == 0:\n        return 0.0\n    return a / b\n"
CALC_V2 = "def ratio(a, b):\n    return a / b\n\n\ndef total(values):\n    return sum(values)\n"
REPORT = """\
Dividing by zero crashes since 1.1:

```
Traceback (most recent call last):
  File "/srv/app/main.py", line 3, in <module>
    print(ratio(1, 0))
  File "calc/core.py", line 2, in ratio
    return a / b
ZeroDivisionError: division by zero
```
"""


def test_every_committed_case_is_a_valid_spec_listed_in_the_log() -> None:
    cases = pasted_cases(ROOT)
    log = (ROOT / "log.md").read_text()

    assert cases, "the corpus has no case"
    assert len({case.url for case in cases}) == len(cases)
    for case in cases:
        assert case.report.strip() and f"`{case.name}`" in log
        assert all(path.endswith(".py") for path, _ in case.gold)
        if case.trigger is not None:  # captured here: the crash, as the shape's tool printed it
            assert "Error" in case.report or "Exception" in case.report


def test_a_spec_with_a_bad_pin_is_refused_with_the_file_named(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "report.txt").write_text("text")
    (tmp_path / "bad" / "case.toml").write_text(_spec("calc", "1.1", "1.0", "nothex", "0" * 64))

    with pytest.raises(SpecError, match=r"case\.toml: 'version_sha256' is not a sha256"):
        load_pasted(tmp_path / "bad")


def test_a_spec_with_an_unknown_shape_is_refused(tmp_path: Path) -> None:
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "report.txt").write_text("text")
    spec = _spec("calc", "1.1", "1.0", "0" * 64, "0" * 64).replace('"python"', '"screenshot"')
    (tmp_path / "odd" / "case.toml").write_text(spec)

    with pytest.raises(SpecError, match="'shape' must be one of"):
        load_pasted(tmp_path / "odd")


def test_only_specs_and_captured_data_live_under_evals_pasted() -> None:
    kept = {path.name for path in ROOT.iterdir() if path.is_file()}

    assert kept == {"README.md", "log.md"}
    assert is_pasted(ROOT) and is_pasted(ROOT / "isort-339")
    assert not is_pasted(ROOT.parent / "cases")


def test_the_baseline_lists_repository_frames_innermost_first_each_once() -> None:
    text = REPORT + REPORT.replace("line 2, in ratio", "line 6, in total")
    tracked = {"calc/core.py", "calc/__init__.py"}

    assert baseline_frames(text, tracked) == [("calc/core.py", "total"), ("calc/core.py", "ratio")]


def test_the_baseline_places_an_installed_frame_in_a_src_layout_only_when_one_file_fits() -> None:
    site = "/venv/lib/python3.11/site-packages"
    installed = REPORT.replace('"calc/core.py"', f'"{site}/calc/core.py"')

    assert baseline_frames(installed, {"src/calc/core.py"}) == [("src/calc/core.py", "ratio")]
    assert baseline_frames(installed, {"src/calc/core.py", "old/calc/core.py"}) == []
    assert baseline_frames(installed.replace("calc/core.py", "core.py"), {"src/core.py"}) == []


@pytest.fixture
def case(tmp_path: Path) -> tuple[PastedCase, Path]:
    """A case whose two releases are archives made here, put where the builder keeps its
    downloads, so nothing is fetched."""
    workdir = tmp_path / "work"
    sdists = workdir / "calc-1.1" / "sdist"
    sdists.mkdir(parents=True)
    pins = {}
    for version, source in (("1.0", CALC_V1), ("1.1", CALC_V2)):
        archive = sdists / f"calc-{version}.tar.gz"
        archive.write_bytes(_sdist(f"calc-{version}", {"calc/core.py": source}))
        pins[version] = hashlib.sha256(archive.read_bytes()).hexdigest()
    spec = tmp_path / "cases" / "calc-div"
    spec.mkdir(parents=True)
    (spec / "case.toml").write_text(_spec("calc", "1.1", "1.0", pins["1.1"], pins["1.0"]))
    (spec / "report.txt").write_text(REPORT)
    return load_pasted(spec), workdir


def test_the_repository_is_the_previous_release_then_the_reported_one_both_tagged(
    case: tuple[PastedCase, Path],
) -> None:
    spec, workdir = case

    repo = build_repo(spec, workdir)
    again = build_repo(spec, workdir)

    assert again == repo
    assert git(repo, "log", "--format=%s").splitlines() == ["calc 1.1", "calc 1.0"]
    assert git(repo, "show", "v1.0:calc/core.py") == CALC_V1.rstrip("\n")
    assert git(repo, "rev-parse", "v1.1") == git(repo, "rev-parse", "HEAD")
    assert (repo / "calc" / "core.py").read_text() == CALC_V2


def test_an_archive_that_is_not_the_pinned_one_is_refused(case: tuple[PastedCase, Path]) -> None:
    spec, workdir = case
    archive = workdir / "calc-1.1" / "sdist" / "calc-1.0.tar.gz"
    archive.write_bytes(_sdist("calc-1.0", {"calc/core.py": "tampered = True\n"}))

    with pytest.raises(BuildError, match="is not the pinned"):
        build_repo(spec, workdir)


@pytest.mark.slow
def test_a_case_is_scored_against_the_frame_baseline(
    case: tuple[PastedCase, Path], tmp_path: Path
) -> None:
    spec, workdir = case

    outcome = score_case(spec, workdir, Settings(home=tmp_path / "state"))

    assert (outcome.intake, outcome.mapped) == ("read", True)
    assert (outcome.rank, outcome.baseline_rank) == (1, 1)
    assert outcome.top[0] == "calc/core.py::ratio"
    totals = summary([outcome])
    assert (totals["function_top1"], totals["baseline_frames_top1"]) == ("1/1", "1/1")
    assert by_shape([outcome]) == {"python": totals}


def _spec(project: str, version: str, previous: str, pin: str, previous_pin: str) -> str:
    return (
        f'project = "{project}"\nversion = "{version}"\nprevious = "{previous}"\n'
        f'version_sha256 = "{pin}"\nprevious_sha256 = "{previous_pin}"\n'
        'url = "https://example.invalid/issues/1"\ngold = ["calc/core.py::ratio"]\n'
        'shape = "python"\n'
    )


def _sdist(top: str, files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size = len(data)
            info.mtime = 1_600_000_000
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.slow
def test_fixloop_eval_scores_a_pasted_case_per_shape(
    case: tuple[PastedCase, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, workdir = case
    args = argparse.Namespace(
        cases=[tmp_path / "cases" / spec.name], suite=None, workdir=workdir, json_out=None
    )

    assert eval_command(args, Settings(home=tmp_path / "state"), ["templates"]) == 0

    printed = capsys.readouterr().out
    assert "calc-div" in printed and "rank   1  baseline   1" in printed
    assert "  python: cases 1" in printed and "function_top1 1/1" in printed


def test_fixloop_eval_refuses_pasted_cases_mixed_with_replayed_ones(
    case: tuple[PastedCase, Path], tmp_path: Path
) -> None:
    spec, workdir = case
    mixed = [tmp_path / "cases" / spec.name, ROOT.parent / "cases"]
    args = argparse.Namespace(cases=mixed, suite=None, workdir=workdir, json_out=None)

    with pytest.raises(FixloopError, match="pasted cases"):
        eval_command(args, Settings(home=tmp_path / "state"), ["templates"])


def test_a_reporters_edits_of_a_captured_run_follow_fixed_rules() -> None:
    captured = (SHAPES_DIR / "python_plain.txt").read_text()
    frames = [line for line in captured.splitlines() if line.startswith('  File "')]

    cut = elided(captured)
    last = last_frame_only(captured)

    kept = [line for line in cut.splitlines() if line.startswith('  File "')]
    assert "  ..." in cut.splitlines() and kept == [frames[0], *frames[-2:]]
    assert cut.splitlines()[-1] == captured.splitlines()[-1]
    assert last.splitlines()[0].startswith("Traceback") and frames[-1] in last
    assert [line for line in last.splitlines() if line.startswith('  File "')] == frames[-1:]
