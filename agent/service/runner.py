"""Start, resume, review and show runs. The CLI and the server are thin layers over this.

One LangGraph thread per incident (`thread_id` = incident id), checkpointed with
`durability="sync"` (to SQLite in the state directory, or to PostgreSQL when `database_url` is
set), so a process can die anywhere and the next one resumes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StateSnapshot

from agent import wiring
from agent.diagnosis.report import diagnosis_view
from agent.domain import END_STATUSES, Diagnosis, Incident, ReviewDecision, Status
from agent.errors import NotFound, RunError
from agent.graph import build_graph
from agent.guardrails.scrub import scrub_intake
from agent.intake.payloads import incident_id
from agent.prompting import prompt_set_hash
from agent.settings import Settings
from agent.state import run_usage


@contextmanager
def open_graph(settings: Settings) -> Iterator[CompiledStateGraph[Any, Any, Any, Any]]:
    with wiring.checkpoints(settings) as checkpoints:
        yield build_graph(checkpoints.saver, settings.max_fix_rounds)


def _config(incident_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": incident_id}}


def _interrupted(snapshot: StateSnapshot) -> bool:
    return any(task.interrupts for task in snapshot.tasks)


def _waiting_for(snapshot: StateSnapshot) -> str | None:
    """What an interrupted run waits for (`review`, `release`), or None when not interrupted."""
    for task in snapshot.tasks:
        for pending in task.interrupts:
            value = pending.value
            return str(value.get("awaiting", "review")) if isinstance(value, dict) else "review"
    return None


_WAITING_STATUS: dict[str, Status] = {
    "review": "awaiting_review",
    "release": "waiting_for_release",
    "unpause": "paused",
    "place": "deferred",
}


def _hold(snapshot: StateSnapshot) -> dict[str, Any] | None:
    """What holds a run that the operator controls hold (`paused`, `deferred`), as its
    interrupt says; None for any other run."""
    for task in snapshot.tasks:
        for pending in task.interrupts:
            value = pending.value
            if isinstance(value, dict) and value.get("awaiting") in ("unpause", "place"):
                return dict(value)
    return None


def run_incident(
    settings: Settings,
    repo_path: Path,
    incident: Incident,
    payload: dict[str, Any],
    repo: str | None = None,
    *,
    commit: str | None = None,
) -> dict[str, Any]:
    """Carry an incident as far as it goes: to a PR awaiting review, or to an end status.

    The run takes the settings of repository table `repo`; unnamed, of the table whose
    checkout is `repo_path` (on a monorepo, the one routing the incident's project), else the
    global settings. Running the same incident again never starts a second run: a finished or
    waiting run is reported as it is, an interrupted one (its process died) is resumed.
    `commit`: the commit the incident was seen on (a red CI run's), whose id the caller chose;
    else the head of the base branch.
    """
    table = repo if repo is not None else settings.table_at(repo_path, incident.project)
    settings = settings.for_repo(table)
    incident, payload = scrub_intake(
        incident, payload, settings.scrub_keys, keep_raw=settings.keep_raw_payloads
    )
    if incident.source == "test_failure" and commit is None:
        incident = _on_commit(settings, repo_path, incident)
    deps = wiring.build_deps(settings, repo_path, incident.id)
    deps.errors.record(incident, payload)
    with open_graph(settings) as graph:
        config = _config(incident.id)
        snapshot = graph.get_state(config)
        if not snapshot.values:
            start = {
                "incident": incident.model_dump(mode="json"),
                "repo": str(deps.repo.path),
                "status": "running",
                "round": 0,
                "tried": [],
                "reports": [],
                "audit": [],
                "run": {
                    "settings": settings.resolved(),
                    "repo_table": table,
                    "prompt_hash": prompt_set_hash(),
                },
            }
            if commit is not None:
                start["base_commit"] = commit
            graph.invoke(start, config, context=deps, durability="sync")
        elif snapshot.next and not _interrupted(snapshot):
            graph.invoke(None, config, context=deps, durability="sync")
        return _summary(graph.get_state(config))


def _on_commit(settings: Settings, repo_path: Path, incident: Incident) -> Incident:
    """A failing-test incident is one per commit: the same tests failing on a later commit of
    the base branch are a new occurrence (a duplicate while the first one's ticket is open)."""
    repo = wiring.open_repo(repo_path)
    head = repo.head(settings.base_branch or repo.default_branch())
    return incident.model_copy(
        update={"id": incident_id(None, f"{incident.fingerprint}@{head}"), "event_id": None}
    )


def settings_of_run(settings: Settings, values: dict[str, Any]) -> Settings:
    """The settings a stored run acts with: those of the repository table it started with."""
    return settings.for_repo(values.get("run", {}).get("repo_table"))


def resume_incident(settings: Settings, incident_id: str) -> dict[str, Any]:
    """Continue a run whose process died. A run waiting for review stays waiting."""
    with open_graph(settings) as graph:
        config = _config(incident_id)
        snapshot = graph.get_state(config)
        if not snapshot.values:
            raise NotFound(f"no run for incident {incident_id}")
        if snapshot.next and not _interrupted(snapshot):
            deps = wiring.build_deps(
                settings_of_run(settings, snapshot.values),
                Path(snapshot.values["repo"]),
                incident_id,
            )
            graph.invoke(None, config, context=deps, durability="sync")
        return _summary(graph.get_state(config))


def review_pr(settings: Settings, pr_id: int, decision: ReviewDecision) -> dict[str, Any]:
    """A human's review of a fixloop PR: act on the forge, then resume the incident's run."""
    incident_id = _incident_for_pr(settings, pr_id)
    return review_incident(settings, incident_id, decision)


def review_incident(
    settings: Settings, incident_id: str, decision: ReviewDecision
) -> dict[str, Any]:
    """A human's review of the PR an incident's run opened (`review_pr`, or a forge webhook)."""
    with open_graph(settings) as graph:
        config = _config(incident_id)
        snapshot = graph.get_state(config)
        if not snapshot.values:
            raise NotFound(f"no run for incident {incident_id}")
        pr_id = snapshot.values["pr"]["id"] if snapshot.values.get("pr") else None
        if pr_id is None or _waiting_for(snapshot) != "review":
            status = snapshot.values.get("status")
            raise RunError(f"incident {incident_id} is {status}, not awaiting review")
        deps = wiring.build_deps(
            settings_of_run(settings, snapshot.values),
            Path(snapshot.values["repo"]),
            incident_id,
        )
        pr = deps.forge.get_pr(pr_id)
        if decision.action == "merge" and pr.status != "merged":
            pr = deps.forge.merge(pr_id, decision.comment)
        elif decision.action == "approve" and pr.status == "open":
            pr = deps.forge.approve(pr_id, decision.comment)
        elif decision.action == "reject" and pr.status != "closed":
            pr = deps.forge.close_pr(pr_id, decision.comment)
        graph.invoke(
            # The run records the PR as the forge answered, so `status` can show it unasked.
            Command(
                resume=decision.model_dump(mode="json"), update={"pr": pr.model_dump(mode="json")}
            ),
            config,
            context=deps,
            durability="sync",
        )
        return _summary(graph.get_state(config))


def check_release(settings: Settings, incident_id: str) -> dict[str, Any]:
    """Look again for the release of a run `waiting_for_release`: verify when it is seen or
    the wait is over, else stay waiting."""
    with open_graph(settings) as graph:
        config = _config(incident_id)
        snapshot = graph.get_state(config)
        if not snapshot.values:
            raise NotFound(f"no run for incident {incident_id}")
        if _waiting_for(snapshot) != "release":
            status = _summary(snapshot, brief=True)["status"]
            raise RunError(f"incident {incident_id} is {status}, not waiting for a release")
        deps = wiring.build_deps(
            settings_of_run(settings, snapshot.values),
            Path(snapshot.values["repo"]),
            incident_id,
        )
        graph.invoke(Command(resume={"check": "release"}), config, context=deps, durability="sync")
        return _summary(graph.get_state(config))


def waiting_for_release(settings: Settings) -> list[str]:
    """The incidents whose run waits for the release that contains its merged fix."""
    return [thread for thread, _ in held_runs(settings, "release")]


def held_runs(settings: Settings, awaiting: str) -> list[tuple[str, dict[str, Any]]]:
    """The runs interrupted waiting for `awaiting` (`release`, `unpause`, `place`), oldest
    first, each with its state."""
    if not wiring.has_runs(settings):
        return []
    with wiring.checkpoints(settings) as checkpoints:
        graph = build_graph(checkpoints.saver, settings.max_fix_rounds)
        found = []
        for thread in checkpoints.threads():
            snapshot = graph.get_state(_config(thread))
            if _waiting_for(snapshot) == awaiting:
                found.append((thread, dict(snapshot.values)))
        return found


def continue_held(settings: Settings, incident_id: str, awaiting: str) -> dict[str, Any]:
    """Let a run held for `awaiting` (`unpause`, `place`) look again: it goes on when nothing
    holds it any more, else it is held again."""
    with open_graph(settings) as graph:
        config = _config(incident_id)
        snapshot = graph.get_state(config)
        if not snapshot.values:
            raise NotFound(f"no run for incident {incident_id}")
        if _waiting_for(snapshot) != awaiting:
            return _summary(snapshot)
        deps = wiring.build_deps(
            settings_of_run(settings, snapshot.values),
            Path(snapshot.values["repo"]),
            incident_id,
        )
        graph.invoke(Command(resume={"check": awaiting}), config, context=deps, durability="sync")
        return _summary(graph.get_state(config))


def incident_status(settings: Settings, incident_id: str) -> dict[str, Any]:
    with open_graph(settings) as graph:
        return _status(graph, incident_id)


class StatusReader:
    """`incident_status` for a long-lived process (the server): one checkpoint connection and
    one compiled graph for every read, instead of both per request. Reads are serialised."""

    def __init__(self, settings: Settings) -> None:
        self._resources = ExitStack()
        self._graph = self._resources.enter_context(open_graph(settings))
        self._lock = threading.Lock()

    def status(self, incident_id: str) -> dict[str, Any]:
        with self._lock:
            return _status(self._graph, incident_id)

    def close(self) -> None:
        with self._lock:
            self._resources.close()


def _status(graph: CompiledStateGraph[Any, Any, Any, Any], incident_id: str) -> dict[str, Any]:
    snapshot = graph.get_state(_config(incident_id))
    if not snapshot.values:
        raise NotFound(f"no run for incident {incident_id}")
    return _summary(snapshot)


def incident_state(settings: Settings, incident_id: str) -> dict[str, Any]:
    """The run's whole graph state (JSON-ready), with the status as `incident_status` gives it."""
    with open_graph(settings) as graph:
        snapshot = graph.get_state(_config(incident_id))
        if not snapshot.values:
            raise NotFound(f"no run for incident {incident_id}")
        values = dict(snapshot.values)
        waiting = _waiting_for(snapshot)
        if waiting is not None:
            values["status"] = _WAITING_STATUS[waiting]
        return values


def list_incidents(settings: Settings) -> list[dict[str, Any]]:
    """Every stored run, oldest first; none when nothing was ever run here."""
    if not wiring.has_runs(settings):
        return []
    with wiring.checkpoints(settings) as checkpoints:
        graph = build_graph(checkpoints.saver, settings.max_fix_rounds)
        return [
            _summary(graph.get_state(_config(thread)), brief=True)
            for thread in checkpoints.threads()
        ]


def _incident_for_pr(settings: Settings, pr_id: int) -> str:
    with wiring.checkpoints(settings) as checkpoints:
        graph = build_graph(checkpoints.saver, settings.max_fix_rounds)
        for thread in checkpoints.threads():
            pr = graph.get_state(_config(thread)).values.get("pr")
            if pr and pr["id"] == pr_id:
                return thread
    raise NotFound(f"no fixloop run opened PR #{pr_id}")


def _summary(snapshot: StateSnapshot, brief: bool = False) -> dict[str, Any]:
    """The run as its checkpoint records it. No outside system is asked: the ticket and the PR
    are as the tracker and the forge last answered a node of the run (or a review)."""
    values = snapshot.values
    incident = values["incident"]
    status: Status = values.get("status", "running")
    waiting = _waiting_for(snapshot)
    if waiting is not None:
        status = _WAITING_STATUS[waiting]
    ticket = values.get("ticket")
    pr = values.get("pr")
    summary: dict[str, Any] = {
        "incident": incident["id"],
        "title": incident["title"],
        "fingerprint": incident["fingerprint"],
        "status": status,
        "finished": status in END_STATUSES,
        "repo": values.get("repo"),
        "repo_table": values.get("run", {}).get("repo_table"),
        "ticket": _ticket_view(ticket) if ticket else None,
        "pr": _pr_view(pr) if pr else None,
        "held": _hold(snapshot),
    }
    if brief:
        return summary
    diagnosis = values.get("diagnosis")
    summary |= {
        "source": incident["source"],
        "diagnosis": (
            diagnosis_view(Diagnosis.model_validate(diagnosis), top=5) if diagnosis else None
        ),
        "proof": next(
            (r for r in reversed(values.get("reports", [])) if r["proven"]),
            None,
        ),
        "candidates_tested": len(values.get("reports", [])),
        "verification": values.get("verification"),
        "escalation": values.get("escalation"),
        "usage": run_usage(values["model_runs"]) if values.get("model_runs") else None,
        "review_command": (
            f"fixloop review {pr['id']} --merge" if pr and status == "awaiting_review" else None
        ),
        "audit": values.get("audit", []),
    }
    return summary


def _ticket_view(ticket: dict[str, Any]) -> dict[str, Any]:
    return {key: ticket.get(key) for key in ("key", "status", "resolution", "url")}


def _pr_view(pr: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "branch", "base", "status", "url", "head_sha", "merge_sha", "diff")
    return {key: pr.get(key) for key in keys}
