from __future__ import annotations

from pathlib import Path

import pytest

from agent.demo.sample_repo import build_demo_repo
from agent.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "state", sandbox="auto", test_timeout=120)


@pytest.fixture
def demo_repo(tmp_path: Path) -> Path:
    return build_demo_repo(tmp_path / "work")
