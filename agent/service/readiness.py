"""`/readyz`: whether the server can do its work now, each dependency named.

`/healthz` stays liveness (the process answers). Ready means: the database answers, the queue
is served (the worker thread is alive, when this server runs one), and every outside system
the settings configure answers an authenticated read: the Jira project, the GitHub
repository, the Sentry organization, the PagerDuty API. Each repository table's systems are
checked once per distinct target. A check that fails names itself and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from agent.ports import Inbox
from agent.settings import Settings

Check = tuple[str, Callable[[httpx.Client], str | None]]


def readiness(settings: Settings, inbox: Inbox, worker_alive: bool | None) -> dict[str, Any]:
    """`{"ready": bool, "checks": {name: "ok" | why}, "failing": [names]}`."""
    checks: dict[str, str] = {}
    try:
        queued = inbox.stats()["jobs_queued"]
        checks["database"] = "ok"
    except Exception as error:  # any driver's error: the answer is "not ready", with why
        checks["database"] = _short(f"{type(error).__name__}: {error}")
        queued = None
    if worker_alive is False:
        checks["queue"] = "the worker thread is not running"
    elif queued is None:
        checks["queue"] = "unknown: the database does not answer"
    else:
        checks["queue"] = "ok"
    with httpx.Client(timeout=settings.readiness_timeout) as client:
        for name, probe in outside_checks(settings):
            checks[name] = probe(client) or "ok"
    failing = [name for name, result in checks.items() if result != "ok"]
    return {"ready": not failing, "checks": checks, "failing": failing}


def outside_checks(settings: Settings) -> list[Check]:
    """One check per outside system and target, over the global settings and every table."""
    found: dict[str, Check] = {}
    for effective in [settings] + [settings.for_repo(name) for name in settings.repos]:
        for check in _checks_of(effective):
            found.setdefault(check[0], check)
    return list(found.values())


def _checks_of(settings: Settings) -> list[Check]:
    checks: list[Check] = []
    if settings.tracker == "jira" and settings.jira_url and settings.jira_project:
        checks.append((f"jira {settings.jira_project}", _jira(settings)))
    uses_github = "github" in (settings.tracker, settings.forge)
    if uses_github and settings.github_repo and settings.github_token is not None:
        checks.append((f"github {settings.github_repo}", _github(settings)))
    if settings.sentry_org and settings.sentry_token is not None:
        checks.append((f"sentry {settings.sentry_org}", _sentry(settings)))
    if settings.pagerduty_token is not None:
        checks.append(("pagerduty", _pagerduty(settings)))
    return checks


def _jira(settings: Settings) -> Callable[[httpx.Client], str | None]:
    token = settings.jira_token.get_secret_value() if settings.jira_token else ""
    auth = (settings.jira_user, token) if settings.jira_user else None
    headers = {} if auth else {"Authorization": f"Bearer {token}"}
    url = f"{(settings.jira_url or '').rstrip('/')}/rest/api/2/project/{settings.jira_project}"
    return lambda client: _get(client, url, headers, auth)


def _github(settings: Settings) -> Callable[[httpx.Client], str | None]:
    token = settings.github_token.get_secret_value() if settings.github_token else ""
    url = f"{settings.github_api_url.rstrip('/')}/repos/{settings.github_repo}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
    return lambda client: _get(client, url, headers)


def _sentry(settings: Settings) -> Callable[[httpx.Client], str | None]:
    token = settings.sentry_token.get_secret_value() if settings.sentry_token else ""
    url = f"{settings.sentry_url.rstrip('/')}/api/0/organizations/{settings.sentry_org}/"
    return lambda client: _get(client, url, {"Authorization": f"Bearer {token}"})


def _pagerduty(settings: Settings) -> Callable[[httpx.Client], str | None]:
    token = settings.pagerduty_token.get_secret_value() if settings.pagerduty_token else ""
    headers = {
        "Authorization": f"Token token={token}",
        "Accept": "application/vnd.pagerduty+json;version=2",
    }
    url = f"{settings.pagerduty_url.rstrip('/')}/abilities"
    return lambda client: _get(client, url, headers)


def _get(
    client: httpx.Client,
    url: str,
    headers: dict[str, str],
    auth: tuple[str, str] | None = None,
) -> str | None:
    """None when `url` answers 2xx; else why not, in one line (never the credentials)."""
    try:
        answer = client.get(url, headers=headers, auth=auth)
    except httpx.HTTPError as error:
        return _short(f"unreachable: {type(error).__name__}: {error}")
    if answer.is_success:
        return None
    return f"{url} answered {answer.status_code} {answer.reason_phrase}"


def _short(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line[:300]
