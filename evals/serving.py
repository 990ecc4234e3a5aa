"""What the server benchmarks share: waiting for a started `fixloop serve` to answer."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_until_healthy(
    server: subprocess.Popen[bytes], port: int, seconds: float = 30
) -> subprocess.Popen[bytes]:
    """`server` once `/healthz` answers 200; terminated, and an error, after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"fixloop serve did not answer /healthz within {seconds:g} s")
