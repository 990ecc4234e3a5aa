"""The real `fixloop serve` in a subprocess, on a free port, with its log in a file."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.cli import fixloop_env
from tests.support.paths import ROOT


@dataclass
class Served:
    url: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON lines of the log (`log_format = "json"`); other lines are left out."""
        records = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                records.append(json.loads(line))
        return records


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(
    home: Path,
    config: Path,
    *args: str,
    host: str = "127.0.0.1",
    env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """`fixloop --config CONFIG serve` until the block ends; fails when it does not answer.
    `env`: more variables of the server's environment."""
    port = free_port()
    log = home.parent / f"serve-{port}.log"
    command = [sys.executable, "-m", "agent.service.cli", "--config", str(config), "serve"]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--host", host, "--port", str(port), *args],
            env=fixloop_env(home) | (env or {}),
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", port, log, process)
    try:
        _wait_until_up(served)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=60)


def _wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(f"fixloop serve exited: {served.log.read_text()}")
        try:
            if httpx.get(served.url + "/healthz", timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"fixloop serve did not answer: {served.log.read_text()}")


def write_config(path: Path, settings: dict[str, Any], tables: dict[str, dict[str, Any]]) -> Path:
    """A `fixloop.toml` with `settings` at the top and one `[repos.NAME]` table each."""
    lines = [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    for name, values in tables.items():
        lines.append(f"[repos.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path
