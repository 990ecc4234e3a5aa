"""The pasted corpus (`evals/pasted/`): its case specs, and each case's repository built on demand.

A case is a directory `evals/pasted/<name>/` holding `case.toml` and `report.txt`:

```toml
project = "babel"                 # the PyPI name
version = "2.12.1"                # the version the reporter ran
previous = "2.12.0"               # the release before it: the parent commit
version_sha256 = "..."            # of each source distribution, as downloaded
previous_sha256 = "..."
url = "https://github.com/OWNER/NAME/issues/N"
gold = ["babel/core.py::Locale.parse"]   # functions the fix changed, path::qualname
shape = "repl"                    # how the traceback in report.txt is shaped (SHAPES)
trigger = "import babel; ..."     # only for a captured report: the code that crashed here
```

`report.txt` is either the reporter's text as pasted (no `trigger`), or what running `trigger`
against the reported release printed here, in the case's shape (`evals/builders/pasted_capture.py`).

The repository: the source distributions of the reported version and of the release before it
are downloaded from the package index pip uses, checked against the pinned sha256, and unpacked
into one git repository, the previous release as the first commit and the reported version as
the second, tagged `v<previous>` and `v<version>`, under `<workdir>/<project>-<version>/repo`.
Nothing of the packages is committed to fixloop.

    python -m evals.builders.pasted [--workdir DIR] [CASE ...]
    python -m evals.builders.pasted --pin PROJECT VERSION

`--pin` prints the file name and sha256 the index lists for one release (to fill a spec).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from agent.errors import FixloopError
from evals.builders.sdists import SdistError, download, find_sdist, release_sdists, unpack

ROOT = Path(__file__).parents[1] / "pasted"
DEFAULT_WORKDIR = Path(".fixloop/pasted")
SHAPES = (
    "python",
    "repl",
    "doctest",
    "ipython7",
    "ipython8",
    "pytest-long",
    "pytest-short",
    "pytest-line",
    "pytest-native",
    "unittest",
    "exception-group",
    "elided",
    "last-frame",
    "cut",
)
"""`cut`: the text ends inside the traceback (the reporter's paste, or the stored post, stops)."""
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ARCHIVES = (".tar.gz", ".tgz", ".tar.bz2", ".zip")
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "pasted-corpus",
    "GIT_AUTHOR_EMAIL": "pasted@fixloop.invalid",
    "GIT_COMMITTER_NAME": "pasted-corpus",
    "GIT_COMMITTER_EMAIL": "pasted@fixloop.invalid",
}


class SpecError(FixloopError):
    """A pasted case directory is not in the format above."""


class BuildError(FixloopError):
    """A case's repository could not be built (download, checksum, archive)."""


@dataclass(frozen=True)
class PastedCase:
    name: str
    project: str
    version: str
    previous: str
    version_sha256: str
    previous_sha256: str
    url: str
    gold: tuple[tuple[str, str], ...]
    """(path, qualname) of each gold function."""
    report: str
    shape: str
    trigger: str | None = None
    """The code whose crash on the reported release `report` is; None for a pasted report."""


def load_pasted(path: Path) -> PastedCase:
    spec_file = path / "case.toml"
    try:
        spec = tomllib.loads(spec_file.read_text(encoding="utf-8"))
        report = (path / "report.txt").read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise SpecError(f"{path}: missing {Path(str(error.filename)).name}") from None
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{spec_file}: {error}") from None
    text = {}
    keys = ("project", "version", "previous", "version_sha256", "previous_sha256", "url", "shape")
    for key in keys:
        value = spec.get(key)
        if not isinstance(value, str) or not value:
            raise SpecError(f"{spec_file}: '{key}' must be a non-empty string")
        text[key] = value
    for key in ("version_sha256", "previous_sha256"):
        if not _SHA256.fullmatch(text[key]):
            raise SpecError(f"{spec_file}: '{key}' is not a sha256 hex digest")
    if text["shape"] not in SHAPES:
        raise SpecError(f"{spec_file}: 'shape' must be one of {', '.join(SHAPES)}")
    trigger = spec.get("trigger")
    if trigger is not None and (not isinstance(trigger, str) or not trigger.strip()):
        raise SpecError(f"{spec_file}: 'trigger' must be Python code")
    gold = spec.get("gold")
    if not isinstance(gold, list) or not gold or not all(_is_gold(g) for g in gold):
        raise SpecError(f"{spec_file}: 'gold' must list 'path.py::qualname' strings")
    return PastedCase(
        name=path.name,
        project=text["project"],
        version=text["version"],
        previous=text["previous"],
        version_sha256=text["version_sha256"],
        previous_sha256=text["previous_sha256"],
        url=text["url"],
        gold=tuple((g.split("::", 1)[0], g.split("::", 1)[1]) for g in gold),
        report=report,
        shape=text["shape"],
        trigger=trigger,
    )


def pasted_cases(root: Path, names: list[str] | None = None) -> list[PastedCase]:
    """The cases under `root` (or those named), in name order."""
    found = sorted(p for p in root.iterdir() if (p / "case.toml").is_file())
    if names:
        known = {p.name: p for p in found}
        missing = [name for name in names if name not in known]
        if missing:
            raise SpecError(f"no such pasted case under {root}: {', '.join(missing)}")
        found = [known[name] for name in names]
    return [load_pasted(path) for path in found]


def is_pasted(path: Path) -> bool:
    """`path` is a pasted case or a directory of them (what `fixloop eval` scores this way)."""
    if (path / "report.txt").is_file() and (path / "case.toml").is_file():
        return True
    return path.is_dir() and any((child / "report.txt").is_file() for child in path.iterdir())


def cases_at(paths: list[Path]) -> list[PastedCase]:
    """The cases that `paths` name: case directories, or corpora holding them."""
    cases: list[PastedCase] = []
    for path in paths:
        if (path / "case.toml").is_file():
            cases.append(load_pasted(path))
        else:
            cases.extend(pasted_cases(path))
    return cases


def _is_gold(value: object) -> bool:
    if not isinstance(value, str) or "::" not in value:
        return False
    path, qualname = value.split("::", 1)
    return path.endswith(".py") and bool(qualname)


def build_repo(case: PastedCase, workdir: Path) -> Path:
    """The case's repository, built once: the previous release, then the reported version."""
    target = workdir / f"{case.project}-{case.version}"
    repo = target / "repo"
    if (target / "built").is_file():
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "config", "commit.gpgsign", "false")
    releases = ((case.previous, case.previous_sha256), (case.version, case.version_sha256))
    for number, (version, sha256) in enumerate(releases):
        archive = sdist_archive(case.project, version, sha256, target / "sdist")
        _replace_tree(repo, archive)
        _git(repo, "add", "--all", "--force")
        date = f"{1_600_000_000 + number * 86_400} +0000"
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        _git(repo, "commit", "--quiet", "--allow-empty", "-m", f"{case.project} {version}", env=env)
        _git(repo, "tag", f"v{version}")
    (target / "built").write_text(f"{case.project} {case.previous} -> {case.version}\n")
    return repo


def sdist_archive(project: str, version: str, sha256: str, into: Path) -> Path:
    """The sdist of `project==version`, kept in `into`; `BuildError` unless its sha256 is the
    pinned one."""
    into.mkdir(parents=True, exist_ok=True)
    found = next((p for p in into.iterdir() if _sdist_of(p.name, project, version)), None)
    if found is None:
        try:
            found = download(find_sdist(project, version, sha256), into)
        except SdistError as error:
            raise BuildError(str(error)) from None
    digest = hashlib.sha256(found.read_bytes()).hexdigest()
    if digest != sha256:
        found.unlink()
        raise BuildError(f"{found.name}: sha256 {digest} is not the pinned {sha256}")
    return found


def _sdist_of(name: str, project: str, version: str) -> bool:
    lowered = name.lower()
    suffix = next((s for s in _ARCHIVES if lowered.endswith(s)), None)
    if suffix is None:
        return False
    stem = lowered.removesuffix(suffix)
    return _normalized(stem) == _normalized(f"{project}-{version}")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _replace_tree(repo: Path, archive: Path) -> None:
    """Make the work tree the archive's single top directory, `.git` kept."""
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    with tempfile.TemporaryDirectory() as scratch:
        try:
            source = unpack(archive, Path(scratch) / "tree")
        except SdistError as error:
            raise BuildError(str(error)) from None
        for child in source.iterdir():
            shutil.move(str(child), repo / child.name)


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=os.environ | _GIT_IDENTITY | (env or {}),
        check=False,
    )
    if done.returncode != 0:
        raise BuildError(f"git {' '.join(args)} in {repo}: {done.stderr.strip()}")
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.builders.pasted", description=__doc__)
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--pin", nargs=2, metavar=("PROJECT", "VERSION"))
    args = parser.parse_args(argv)
    try:
        if args.pin:
            project, version = args.pin
            found = [s for s in release_sdists(project) if s.version == version]
            if not found:
                raise BuildError(f"{project}=={version}: no source distribution on the index")
            print(f"{found[0].filename} {found[0].sha256}")
            return 0
        for case in pasted_cases(ROOT, args.cases):
            print(f"{case.name}: {build_repo(case, args.workdir)}")
    except (FixloopError, SdistError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
