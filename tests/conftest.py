from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.demo.sample_repo import build_demo_repo
from agent.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "state", sandbox="auto", test_timeout=120)


@pytest.fixture
def demo_repo(tmp_path: Path) -> Path:
    return build_demo_repo(tmp_path / "work")


def fixture_payload(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return payload
