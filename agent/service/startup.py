"""What `fixloop serve` checks before it listens, and how a bad setting reads as one line.

The checks are `fixloop doctor`'s without the baseline run of each suite (no test runs at
start): the stores open, the sandbox works (when the worker runs), every repository table's
checkout, base branch and interpreter, and the forge's and tracker's settings. A problem stops
the server; a warning (no repository yet, a webhook that every request will be refused for, an
unknown `FIXLOOP_*` variable) is printed and the server starts.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic_settings import SettingsError

from agent import wiring
from agent.config_file import CONFIG_VARIABLE
from agent.errors import FixloopError
from agent.settings import Settings

PREFIX = "FIXLOOP_"
NO_REPOS = "no repository is configured (setting repos)"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class StartCheck:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def setting_error_line(error: SettingsError) -> str:
    """`error parsing value for field "repos" ...` as `bad setting repos: <why>`."""
    found = re.search(r'field "([^"]+)"', str(error))
    cause = error.__cause__ or error.__context__
    why = str(cause).splitlines()[0] if cause is not None else str(error)
    if found is None:
        return f"bad settings: {why}"
    name = found.group(1)
    return f"bad setting {name} ({PREFIX}{name.upper()}): not valid JSON ({why})"


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One warning per `FIXLOOP_*` variable that names no setting (it is ignored)."""
    known = {PREFIX + name.upper() for name in Settings.model_fields} | {CONFIG_VARIABLE}
    warnings = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(PREFIX) or upper in known:
            continue
        close = difflib.get_close_matches(upper, known, n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(f"unknown variable {name} is ignored{hint}")
    return warnings


def check_start(settings: Settings, worker: bool) -> StartCheck:
    """The problems that stop the server and the warnings it starts with."""
    from agent.service import doctor

    report = doctor.check_all(settings, baseline=False)
    check = StartCheck()
    for problem in report["problems"]:
        if problem == NO_REPOS:
            check.warnings.append(NO_REPOS + ": no incident is run until one is")
        elif report["sandbox"]["name"] == "none" and problem == report["sandbox"]["why"]:
            (check.problems if worker else check.warnings).append(problem)
        else:
            check.problems.append(problem)
    for repo in report["repos"]:
        check.problems += [f"repos.{repo['name']}: {p}" for p in repo["problems"]]
    if not settings.repos:
        check.problems += _global_forge_and_tracker(settings)
    check.warnings += _refused_webhooks(settings)
    check.warnings += _exposure(settings)
    return check


def _global_forge_and_tracker(settings: Settings) -> list[str]:
    problems = []
    try:
        wiring.tracker(settings)
    except FixloopError as error:
        problems.append(str(error))
    if settings.forge == "github" and (not settings.github_repo or settings.github_token is None):
        problems.append("forge 'github' needs the settings github_repo and github_token")
    return problems


def _refused_webhooks(settings: Settings) -> list[str]:
    refused = []
    if settings.sentry_client_secret is None and not settings.sentry_client_secrets:
        refused.append("Sentry (sentry_client_secret)")
    if settings.github_webhook_secret is None and not settings.github_webhook_secrets:
        refused.append("GitHub (github_webhook_secret)")
    if not settings.pagerduty_webhook_secrets:
        refused.append("PagerDuty (pagerduty_webhook_secrets)")
    if not refused:
        return []
    return [f"webhooks of {', '.join(refused)} will be refused: no secret is set"]


def _exposure(settings: Settings) -> list[str]:
    if settings.server_host in LOOPBACK or settings.access_tokens or settings.auth_proxy_header:
        return []
    return [
        f"listening on {settings.server_host} with no access_tokens and no auth_proxy_header: "
        "incident data is answered to loopback only"
    ]
