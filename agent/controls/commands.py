"""`fixloop pause`, `fixloop unpause` and `fixloop resume-deferred`. Thin, like the rest of the
CLI: heavy imports happen inside the commands."""

from __future__ import annotations

import argparse
import getpass
import json
from typing import TYPE_CHECKING, Any

from agent.settings import Settings

if TYPE_CHECKING:
    _Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def add_commands(sub: _Commands) -> None:
    pause = sub.add_parser(
        "pause", help="stop every run (or one repository's) before its next outside write"
    )
    pause.add_argument("--repo", metavar="NAME", help="a repository table; default: all")
    pause.add_argument("--reason", default="", help="why, shown in status, /healthz, /metrics")
    pause.add_argument("--json", action="store_true", help="print one JSON object")
    pause.set_defaults(handler=_pause)

    unpause = sub.add_parser(
        "unpause", help="clear the switch and resume every paused run from its checkpoint"
    )
    unpause.add_argument("--repo", metavar="NAME", help="a repository table; default: all")
    unpause.add_argument("--json", action="store_true", help="print one JSON object")
    unpause.set_defaults(handler=_unpause)

    deferred = sub.add_parser(
        "resume-deferred", help="let deferred runs open their PR where a place is free"
    )
    deferred.add_argument("--json", action="store_true", help="print one JSON object")
    deferred.set_defaults(handler=_resume_deferred)


def operator() -> str:
    return f"{getpass.getuser()} (cli)"


def _pause(args: argparse.Namespace, settings: Settings) -> int:
    from agent.controls import switch

    paused = switch.pause(settings, args.repo, operator(), args.reason)
    if args.json:
        print(json.dumps(paused.model_dump(mode="json")))
    else:
        what = "fixloop" if args.repo is None else f"repository {args.repo}"
        print(f"{what} paused since {paused.since.isoformat()} by {paused.by}")
    return 0


def _unpause(args: argparse.Namespace, settings: Settings) -> int:
    from agent.controls import switch

    cleared = switch.unpause(settings, args.repo, operator())
    resumed = switch.resume_paused(settings)
    if args.json:
        print(json.dumps({"cleared": cleared is not None, "runs": _brief(resumed)}, default=str))
        return 0
    what = "fixloop" if args.repo is None else f"repository {args.repo}"
    print(f"{what} unpaused" if cleared else f"{what} was not paused")
    for run in resumed:
        print(f"{run['incident']}  {run['status']}")
    return 0


def _resume_deferred(args: argparse.Namespace, settings: Settings) -> int:
    from agent.controls import places

    resumed = places.resume_deferred(settings)
    if args.json:
        print(json.dumps({"runs": _brief(resumed)}, default=str))
    elif not resumed:
        print("no run is deferred")
    for run in [] if args.json else resumed:
        print(f"{run['incident']}  {run['status']}")
    return 0


def _brief(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"incident": run["incident"], "status": run["status"], "pr": run["pr"], "held": run["held"]}
        for run in runs
    ]
