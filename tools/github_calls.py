"""One translation of PyGithub's errors into fixloop's, for every GitHub adapter."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from github import GithubException

from agent.errors import AdapterError, NotFound

T = TypeVar("T")


def github_call(full_name: str, action: Callable[[], T]) -> T:
    """Run one PyGithub call; a 404 becomes `NotFound`, any other failure `AdapterError`."""
    try:
        return action()
    except GithubException as error:
        message = error.data.get("message") if isinstance(error.data, dict) else error.data
        if error.status == 404:
            raise NotFound(f"GitHub {full_name}: not found ({message})") from None
        raise AdapterError(f"GitHub {full_name}: {error.status} {message}") from None
