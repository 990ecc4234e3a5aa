"""`fixloop demo`: build the sample service, crash it under sentry-sdk, carry the event to a PR."""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent import wiring
from agent.demo.sample_repo import build_demo_repo
from agent.demo.trigger import trigger_incident
from agent.errors import ConfigError, IntakeError
from agent.intake.payloads import parse_payload
from agent.service import runner
from agent.settings import Settings


def run_demo(
    settings: Settings,
    workdir: Path | None,
    say: Callable[[str], None],
    command: str = "fixloop",
) -> dict[str, Any]:
    """Run the whole demo; return the run summary with the demo's timings added."""
    started = time.monotonic()
    workdir = (workdir or Path(tempfile.mkdtemp(prefix="fixloop-demo-"))).resolve()
    if (workdir / "shop-service").exists():
        raise ConfigError(f"{workdir / 'shop-service'} already exists; pick a fresh --workdir")
    repo = build_demo_repo(workdir)
    say(f"[1/4] built the sample service at {repo} (git history with one bad commit)")

    # Each sample service is its own Sentry project, so demos run side by side in one state
    # directory stay separate incidents (fingerprints are scoped to a project, as in Sentry).
    project = str(int(hashlib.sha256(str(repo).encode()).hexdigest()[:8], 16) % 1_000_000)
    store = wiring.error_store(settings)
    with wiring.sentry_intake(settings, port=0) as intake:
        event_id = trigger_incident(
            repo, intake.dsn(project_id=project), delivered=lambda eid: store.get(eid) is not None
        )
    payload = store.get(event_id)
    if payload is None:
        raise IntakeError(f"event {event_id} vanished from the error store")
    incident = parse_payload(payload)
    received = time.monotonic()
    say(f"[2/4] the service crashed; sentry-sdk sent event {event_id} to fixloop's intake")
    say(f"      {incident.title}")

    say("[3/4] carrying the incident through the loop (this runs the service's tests) ...")
    summary = runner.run_incident(settings, repo, incident, payload)
    finished = time.monotonic()
    for entry in summary["audit"]:
        say(f"      {entry['node']:<12} {entry['decided']} — {entry['why']}")

    if summary["status"] == "awaiting_review":
        pr = summary["pr"]
        say(f"[4/4] pull request #{pr['id']} on branch {pr['branch']} awaits your review:")
        say("")
        say(pr["diff"].rstrip())
        say("")
        home = "" if settings.home == Path(".fixloop") else f"FIXLOOP_HOME={settings.home} "
        fixloop = f"{home}{command}"
        say(f"      review it:  {fixloop} review {pr['id']} --merge")
        say(f"      or:         {fixloop} review {pr['id']} --reject --comment 'why'")
        say(f"      audit:      {fixloop} status {summary['incident']}")
    else:
        say(f"[4/4] the run ended as {summary['status']}: {command} status {summary['incident']}")

    summary["demo"] = {
        "workdir": str(workdir),
        "event_id": event_id,
        "seconds_setup_and_crash": round(received - started, 3),
        "seconds_event_to_pr": round(finished - received, 3),
    }
    return summary
