"""A local package index serving three releases of `tinysize`, a small library written for the
tests of the real-bug and mutant builders, and a real-bug spec for it."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from evals.builders.real_mine import spec_toml

TEST_V1 = """\
from tinysize import mean


def test_mean():
    assert mean([1, 2, 3]) == 2
"""
TEST_V2 = (
    TEST_V1
    + """

def test_mean_of_nothing():
    assert mean([]) == 0
"""
)
SOURCE = {
    "1.0": "def mean(values):\n    return sum(values) / max(len(values), 1)\n",
    "1.1": "def mean(values):\n    total = sum(values)\n    return total / len(values)\n",
    "1.2": (
        "def mean(values):\n    if not values:\n        return 0\n"
        "    return sum(values) / len(values)\n"
    ),
}


def sdist(version: str) -> bytes:
    files = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: tinysize\nVersion: {version}\n",
        "tinysize/__init__.py": SOURCE[version],
        "tests/test_mean.py": TEST_V2 if version == "1.2" else TEST_V1,
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"tinysize-{version}/{name}")
            info.size = len(data)
            info.mtime = 1577880000
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def index() -> Iterator[tuple[str, dict[str, str]]]:
    archives = {f"tinysize-{v}.tar.gz": sdist(v) for v in SOURCE}
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in archives.items()}

    class Index(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/simple/tinysize/":
                files = [
                    {"filename": n, "url": f"{base}/files/{n}", "hashes": {"sha256": hashes[n]}}
                    for n in archives
                ]
                body = json.dumps({"name": "tinysize", "files": files}).encode()
                kind = "application/vnd.pypi.simple.v1+json"
            elif self.path.startswith("/files/") and self.path[7:] in archives:
                body, kind = archives[self.path[7:]], "application/gzip"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield (
        f"http://127.0.0.1:{server.server_address[1]}/simple",
        {name.split("-")[1].removesuffix(".tar.gz"): digest for name, digest in hashes.items()},
    )
    server.shutdown()


def write_spec(directory: Path, hashes: dict[str, str], witness: str) -> Path:
    spec = {
        "id": "tinysize-1.1",
        "project": "tinysize",
        "kind": "crash",
        "witness": [witness],
        "hidden": ["tests/test_mean.py"],
        "deselect": [],
        "test_command": "python -m pytest -q tests",
        "deps": [f"pytest=={pytest.__version__}"],
        "before": {"version": "1.0", "sha256": hashes["1.0"]},
        "buggy": {"version": "1.1", "sha256": hashes["1.1"]},
        "fixed": {"version": "1.2", "sha256": hashes["1.2"]},
        "gold": {"file": "tinysize/__init__.py", "function": "mean", "introduced_in_buggy": True},
    }
    path = directory / "tinysize-1.1.toml"
    path.write_text(spec_toml(spec))
    return path
