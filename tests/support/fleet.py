"""A Celery fleet for tests: a key prefix of its own on the real Redis, and `fixloop worker`
processes started and killed for real."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.cli import fixloop_env
from tests.support.paths import ROOT

REDIS = "redis://127.0.0.1:6379/0"


def redis_prefix() -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted after."""
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.ConnectionError as error:
        pytest.skip(f"Redis at {REDIS} is unreachable ({error}); .ci/setup starts it")
    prefix = f"fixloop-test-{uuid.uuid4().hex[:12]}:"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def fleet_env(home: Path, prefix: str, database_url: str | None, **settings: str) -> dict[str, str]:
    env = fixloop_env(home, database_url)
    env |= {"FIXLOOP_BROKER_URL": REDIS, "FIXLOOP_BROKER_PREFIX": prefix}
    env |= {f"FIXLOOP_{name.upper()}": value for name, value in settings.items()}
    return env


@contextmanager
def worker_process(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """`fixloop worker` in its own process until the block ends (then stopped if still up)."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "agent.service.cli", "worker", *args],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def repos_setting(mapping: dict[str, Path]) -> str:
    return json.dumps({name: str(path) for name, path in mapping.items()})
