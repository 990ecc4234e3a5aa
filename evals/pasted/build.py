"""Build a pasted case's repository from the package registry, on demand, cached.

The source distributions of the reported version and of the release before it are downloaded
from the package index pip uses (its Simple API, PEP 691: the file list pip itself reads),
checked against the sha256 the case pins, and unpacked into one git repository: the previous
release as the first commit, the reported version as the second, tagged `v<previous>` and
`v<version>`. Nothing of the packages is committed to fixloop; the repository lives under
`<workdir>/<project>-<version>/repo`.

    python -m evals.pasted.build [--workdir DIR] [CASE ...]
    python -m evals.pasted.build --pin PROJECT VERSION

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
from pathlib import Path

from agent.errors import FixloopError
from evals.builders.sdists import SdistError, download, find_sdist, release_sdists, unpack
from evals.pasted.spec import PastedCase, pasted_cases

ROOT = Path(__file__).parent
DEFAULT_WORKDIR = Path(".fixloop/pasted")
_ARCHIVES = (".tar.gz", ".tgz", ".tar.bz2", ".zip")
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "pasted-corpus",
    "GIT_AUTHOR_EMAIL": "pasted@fixloop.invalid",
    "GIT_COMMITTER_NAME": "pasted-corpus",
    "GIT_COMMITTER_EMAIL": "pasted@fixloop.invalid",
}


class BuildError(FixloopError):
    """A case's repository could not be built (download, checksum, archive)."""


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
        archive = _download(case.project, version, sha256, target / "sdist")
        _replace_tree(repo, archive)
        _git(repo, "add", "--all", "--force")
        date = f"{1_600_000_000 + number * 86_400} +0000"
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        _git(repo, "commit", "--quiet", "--allow-empty", "-m", f"{case.project} {version}", env=env)
        _git(repo, "tag", f"v{version}")
    (target / "built").write_text(f"{case.project} {case.previous} -> {case.version}\n")
    return repo


def _download(project: str, version: str, sha256: str, into: Path) -> Path:
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
    parser = argparse.ArgumentParser(prog="python -m evals.pasted.build", description=__doc__)
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
