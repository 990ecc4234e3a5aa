"""Source distributions from the package index, pinned by sha256, cached, unpacked.

The index is the one pip uses (`PIP_INDEX_URL`, else pip's default), read through its JSON
simple API (PEP 691). Nothing but released source distributions is ever downloaded; each is
checked against the sha256 the index (or the case's spec) names before it is unpacked.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
TIMEOUT = 120


class SdistError(Exception):
    """An sdist could not be found, fetched, verified or unpacked."""


@dataclass(frozen=True)
class Sdist:
    project: str
    version: str
    filename: str
    url: str
    sha256: str
    uploaded: str | None = None


def index_url() -> str:
    configured = os.environ.get("PIP_INDEX_URL")
    if configured:
        return configured.rstrip("/")
    from pip._internal.models.index import PyPI  # pip's own default, never a name of ours

    return str(PyPI.simple_url).rstrip("/")


def release_sdists(project: str, index: str | None = None) -> list[Sdist]:
    """Every final release of `project` that has a source distribution, oldest first."""
    name = canonicalize_name(project)
    base = (index or index_url()).rstrip("/")
    request = urllib.request.Request(f"{base}/{name}/", headers={"Accept": SIMPLE_JSON})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            data = json.load(response)
    except (OSError, ValueError) as error:
        raise SdistError(f"{project}: cannot read the index: {error}") from None
    found: dict[Version, Sdist] = {}
    for file in data.get("files", []):
        filename = file.get("filename", "")
        version = _sdist_version(name, filename)
        if version is None or version.is_prerelease or version.is_devrelease:
            continue
        if file.get("yanked") or "sha256" not in file.get("hashes", {}):
            continue
        found.setdefault(
            version,
            Sdist(
                project=name,
                version=str(version),
                filename=filename,
                url=file["url"],
                sha256=file["hashes"]["sha256"],
                uploaded=file.get("upload-time"),
            ),
        )
    return [found[version] for version in sorted(found)]


def find_sdist(project: str, version: str, sha256: str, index: str | None = None) -> Sdist:
    """The sdist of `project==version` whose sha256 is `sha256`."""
    for sdist in release_sdists(project, index):
        if Version(sdist.version) == Version(version):
            if sdist.sha256 != sha256:
                raise SdistError(
                    f"{project} {version}: the index has sha256 {sdist.sha256}, "
                    f"the spec pins {sha256}"
                )
            return sdist
    raise SdistError(f"{project} {version}: no source distribution on the index")


def download(sdist: Sdist, cache: Path) -> Path:
    """The sdist's file in `cache`, downloaded once and checked against its sha256."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / sdist.filename
    if target.is_file() and _sha256(target) == sdist.sha256:
        return target
    partial = target.with_suffix(target.suffix + ".part")
    try:
        with (
            urllib.request.urlopen(sdist.url, timeout=TIMEOUT) as response,
            partial.open("wb") as out,
        ):
            shutil.copyfileobj(response, out)
    except OSError as error:
        raise SdistError(f"{sdist.filename}: download failed: {error}") from None
    if _sha256(partial) != sdist.sha256:
        partial.unlink()
        raise SdistError(f"{sdist.filename}: sha256 differs from {sdist.sha256}")
    partial.replace(target)
    return target


def unpack(archive: Path, target: Path) -> Path:
    """Unpack `archive` into `target` without its top directory; return `target`."""
    if target.exists():
        shutil.rmtree(target)
    staging = target.with_name(target.name + ".unpack")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.namelist():
                if member.startswith("/") or ".." in Path(member).parts:
                    raise SdistError(f"{archive.name}: unsafe path {member}")
            zipped.extractall(staging)
    else:
        with tarfile.open(archive) as tarred:
            tarred.extractall(staging, filter="data")
    tops = list(staging.iterdir())
    root = tops[0] if len(tops) == 1 and tops[0].is_dir() else staging
    shutil.move(str(root), str(target))
    shutil.rmtree(staging, ignore_errors=True)
    for metadata in [*target.glob("*.egg-info"), *target.glob("src/*.egg-info")]:
        shutil.rmtree(metadata)
    return target


def _sdist_version(name: str, filename: str) -> Version | None:
    match = re.match(r"^(?P<stem>.+?)\.(tar\.gz|tar\.bz2|zip)$", filename)
    if match is None:
        return None
    stem = match["stem"]
    if "-" not in stem:
        return None
    project, _, version = stem.rpartition("-")
    if canonicalize_name(project) != name:
        return None
    try:
        return Version(version)
    except InvalidVersion:
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
