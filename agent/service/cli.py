"""`fixloop`: the command line. Thin: every command calls `agent.service.runner` or `agent.demo`.

Heavy imports (LangGraph, the SDKs, tree-sitter) happen inside the commands that need them, so
`fixloop --help` answers fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, TypeAlias

from pydantic import ValidationError
from pydantic_settings import SettingsError

from agent.config_file import config_file_chosen
from agent.controls.commands import add_commands as _add_controls
from agent.domain import ReviewDecision
from agent.errors import FixloopError
from agent.intake.payloads import load_event_file
from agent.service.startup import setting_error_line, unknown_variables
from agent.settings import Settings, checkouts_unchecked


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    for warning in unknown_variables(os.environ):
        print(f"fixloop: warning: {warning}", file=sys.stderr)
    try:
        with config_file_chosen(args.config):
            if getattr(args, "unchecked_checkouts", False):
                with checkouts_unchecked():
                    settings = Settings()
            else:
                settings = Settings()
        return int(args.handler(args, settings))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        print(f"fixloop: bad setting {where}: {message}", file=sys.stderr)
        return 2
    except SettingsError as error:
        print(f"fixloop: {setting_error_line(error)}", file=sys.stderr)
        return 2
    except FixloopError as error:
        print(f"fixloop: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fixloop: interrupted; `fixloop resume` continues the run", file=sys.stderr)
        return 130


_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fixloop",
        description="Carry a production incident to a proven fix awaiting review.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    for add in (
        _add_demo,
        _add_run,
        _add_diagnose,
        _add_review,
        _add_resume,
        _add_verify_pending,
        _add_status,
        _add_graph,
        _add_eval,
        _add_index,
        _add_serve,
        _add_worker,
        _add_beat,
        _add_intake,
        _add_doctor,
        _add_incidents,
        _add_controls,
    ):
        add(sub)
    config_help = "the configuration file (default: FIXLOOP_CONFIG, else ./fixloop.toml)"
    parser.add_argument("--config", type=Path, metavar="PATH", help=config_help)
    for command in sub.choices.values():
        command.add_argument(
            "--config", type=Path, metavar="PATH", default=argparse.SUPPRESS, help=config_help
        )
    return parser


def _add_demo(sub: _Commands) -> None:
    demo = sub.add_parser("demo", help="build a sample service, crash it, and fix it")
    demo.add_argument("--workdir", type=Path, help="where to build the sample service")
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.set_defaults(handler=_demo)


def _add_run(sub: _Commands) -> None:
    run = sub.add_parser("run", help="carry one incident through the loop")
    _repo_and_event(run)
    run.add_argument("--engine", help="repair engine(s), comma-separated (default: setting)")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.set_defaults(handler=_run)


def _add_diagnose(sub: _Commands) -> None:
    diagnose = sub.add_parser(
        "diagnose",
        help="detection and root cause only: print the diagnosis, change nothing",
        description="Map the incident's frames to the repository and rank the suspects, with "
        "their evidence and the suspect commit. No ticket, no fix, no pull request.",
    )
    _repo_and_event(diagnose)
    diagnose.add_argument("--commit", help="diagnose at this commit (default: the base branch)")
    diagnose.add_argument("--json", action="store_true", help="print one JSON object")
    diagnose.set_defaults(handler=_diagnose)


def _add_review(sub: _Commands) -> None:
    review = sub.add_parser("review", help="review a fixloop pull request")
    review.add_argument("pr", type=int, help="pull request number")
    action = review.add_mutually_exclusive_group(required=True)
    action.add_argument("--merge", dest="action", action="store_const", const="merge")
    action.add_argument("--approve", dest="action", action="store_const", const="approve")
    action.add_argument("--reject", dest="action", action="store_const", const="reject")
    review.add_argument("--comment", default="", help="why (recorded on the PR and the ticket)")
    review.add_argument("--json", action="store_true", help="print one JSON object")
    review.set_defaults(handler=_review)


def _add_resume(sub: _Commands) -> None:
    resume = sub.add_parser("resume", help="continue a run whose process died")
    resume.add_argument("incident")
    resume.add_argument("--json", action="store_true", help="print one JSON object")
    resume.set_defaults(handler=_resume)


def _add_verify_pending(sub: _Commands) -> None:
    pending = sub.add_parser(
        "verify-pending", help="check the runs waiting for the release of their merged fix"
    )
    pending.add_argument("--json", action="store_true", help="print one JSON object")
    pending.set_defaults(handler=_verify_pending)


def _add_status(sub: _Commands) -> None:
    status = sub.add_parser("status", help="show one run with its audit trail, or all runs")
    status.add_argument("incident", nargs="?")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(handler=_status)


def _add_graph(sub: _Commands) -> None:
    graph = sub.add_parser("graph", help="print the loop as a Mermaid diagram")
    graph.set_defaults(handler=_graph)


def _add_eval(sub: _Commands) -> None:
    evaluate = sub.add_parser(
        "eval",
        help="replay eval cases and score them; `eval compare A.json B.json` diffs two runs",
        description="Replay eval cases through the loop and score them. "
        "`fixloop eval compare A.json B.json` shows what changed between two runs.",
    )
    evaluate.add_argument(
        "cases", nargs="*", type=Path, help="case directories or directories of cases"
    )
    evaluate.add_argument("--engine", default="templates", help="repair engine(s), comma-separated")
    evaluate.add_argument("--jobs", type=int, default=2, help="cases replayed at once")
    evaluate.add_argument("--json", type=Path, dest="json_out", help="write the results here")
    evaluate.add_argument("--report", type=Path, help="write the HTML report here")
    evaluate.add_argument("--resume", action="store_true", help="keep results of a stopped run")
    evaluate.add_argument("--workdir", type=Path, help="scratch space (default: <home>/evals)")
    evaluate.add_argument("--suite", type=Path, help="a suite file: its cases and their floor")
    evaluate.add_argument(
        "--case-timeout", type=float, default=900.0, help="seconds before a case is an error"
    )
    evaluate.add_argument(
        "--broker", help="redis:// URL: `fixloop worker`s replay the cases, --jobs at once"
    )
    evaluate.set_defaults(handler=_eval)


def _add_index(sub: _Commands) -> None:
    index = sub.add_parser(
        "index",
        help="index a repository or directory with tree-sitter; --stats for the figures",
        description="Index the source files of a git repository (at HEAD or --rev) or of a "
        "plain directory into the state directory's code index. Unchanged files are not parsed.",
    )
    index.add_argument("path", type=Path, help="a git repository or a plain directory")
    index.add_argument("--rev", help="revision of a git repository (default HEAD)")
    index.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="DIR",
        help="folder name to skip in a plain directory (repeatable)",
    )
    index.add_argument("--stats", action="store_true", help="files, lines, symbols, time, memory")
    index.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    index.set_defaults(handler=_index)


def _add_serve(sub: _Commands) -> None:
    serve = sub.add_parser(
        "serve",
        help="the webhook and Sentry-ingest server",
        description="Checks the settings as `fixloop doctor` does (without running a suite) "
        "and refuses to start with one line per problem; then serves.",
    )
    serve.add_argument("--host", help="address (default: setting server_host)")
    serve.add_argument("--port", type=int, help="port (default: setting server_port)")
    serve.add_argument(
        "--no-worker", action="store_true", help="only persist and queue; run no incidents"
    )
    serve.set_defaults(handler=_serve)


def _add_worker(sub: _Commands) -> None:
    worker = sub.add_parser(
        "worker",
        help="a Celery worker carrying the server's jobs (setting broker_url)",
        description="Carry the jobs `fixloop serve` hands to the broker: light (intake, "
        "tickets, reviews, release checks) and heavy (runs: root cause and proof). Stops "
        "after its tasks in hand on SIGTERM; a killed worker's jobs are taken over.",
    )
    worker.add_argument("--concurrency", type=int, default=1, help="jobs at once (default 1)")
    worker.add_argument(
        "--queues", default="light,heavy", help="queues to take jobs from (default light,heavy)"
    )
    worker.add_argument(
        "--pool", choices=("prefork", "threads", "solo"), default="prefork", help="Celery pool"
    )
    worker.add_argument("--beat", action="store_true", help="also run the beat schedule here")
    worker.set_defaults(handler=_worker)


def _add_beat(sub: _Commands) -> None:
    beat = sub.add_parser(
        "beat", help="Celery beat: release checks (verify-pending) and dead workers' jobs"
    )
    beat.set_defaults(handler=_beat)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from agent.service.fleet.app import make_app
    from agent.service.fleet.queues import QUEUES

    queues = [name.strip() for name in args.queues.split(",") if name.strip()]
    unknown = sorted(set(queues) - set(QUEUES))
    if unknown or not queues:
        raise FixloopError(f"unknown queue {', '.join(unknown) or '(none)'}: use light, heavy")
    if args.concurrency < 1:
        raise FixloopError("--concurrency must be at least 1")
    argv = [
        "worker",
        f"--concurrency={args.concurrency}",
        f"--queues={','.join(queues)}",
        f"--pool={args.pool}",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
    ]
    if args.beat:
        argv += ["--beat", f"--schedule={settings.home / 'beat-schedule'}"]
    settings.home.mkdir(parents=True, exist_ok=True)
    make_app(settings).worker_main(argv)
    return 0


def _beat(args: argparse.Namespace, settings: Settings) -> int:
    from agent.service.fleet.app import make_app

    settings.home.mkdir(parents=True, exist_ok=True)
    schedule = settings.home / "beat-schedule"
    make_app(settings).start(["beat", f"--schedule={schedule}", "--loglevel=INFO"])
    return 0


def _add_intake(sub: _Commands) -> None:
    intake = sub.add_parser("intake", help="receive Sentry events: point an app's DSN here")
    intake.add_argument("--port", type=int, help="port (default: setting intake_port)")
    intake.set_defaults(handler=_intake)


def _add_doctor(sub: _Commands) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="check each configured repository: checkout, interpreter, suite, sandbox, forge",
        description="For each repository table: the checkout and its base branch, the "
        "interpreter with its Python and pytest versions, one baseline run of the suite in the "
        "sandbox (tests collected, seconds), and whether the forge and tracker settings are "
        "complete. Exits 1 with one line per problem.",
    )
    doctor.add_argument("--json", action="store_true", help="print one JSON object")
    doctor.add_argument(
        "--online", action="store_true", help="also ask the forge's and tracker's APIs"
    )
    doctor.set_defaults(handler=_doctor, unchecked_checkouts=True)


def _add_incidents(sub: _Commands) -> None:
    listing = sub.add_parser(
        "incidents",
        help="list and filter the server's incidents, or close one by hand",
        description="The incidents the server received, newest first. `--close INCIDENT` closes "
        "an open one by hand: its queued jobs are settled and the next event of its error is a "
        "new incident that runs.",
    )
    listing.add_argument("--state", choices=["open", "closed", "all"], default="all")
    listing.add_argument("--project", help="only this project (as the events name it)")
    listing.add_argument("--source", help="only this source, e.g. sentry_webhook, pagerduty")
    listing.add_argument("--limit", type=int, default=100, help="at most this many")
    listing.add_argument("--close", metavar="INCIDENT", help="close this open incident")
    listing.add_argument("--reason", default="", help="why it is closed (recorded)")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(handler=_incidents)


def _incidents(args: argparse.Namespace, settings: Settings) -> int:
    from agent.service import incidents

    if args.close:
        result = incidents.close(settings, args.close, args.reason)
        if args.json:
            print(json.dumps(result))
        elif result["closed"]:
            print(f"{args.close} closed ({result['outcome']})")
        else:
            print(f"{args.close} is already closed ({result['outcome'] or 'no outcome'})")
        return 0
    limit = min(max(args.limit, 1), 10_000)
    rows = incidents.listed(settings, args.state, args.project, args.source, limit)
    if args.json:
        print(json.dumps({"incidents": rows}, indent=2))
    elif not rows:
        print(f"no incidents in {settings.home}")
    else:
        print(incidents.render(rows))
    return 0


def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    from agent.service import doctor

    report = doctor.check_all(settings, online=args.online)
    problems = doctor.problem_lines(report)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(doctor.render(report))
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


def _repo_and_event(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--repo", type=Path, required=True, help="a repository table's name or a git checkout"
    )
    command.add_argument(
        "--event",
        type=Path,
        required=True,
        help="incident payload (JSON, traceback .txt, or JUnit XML)",
    )


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from agent.service import runner

    if args.engine:
        engines = [name.strip() for name in args.engine.split(",") if name.strip()]
        settings = settings.model_copy(update={"engines": engines})
    incident, payload = load_event_file(args.event)
    table, checkout = settings.target(args.repo, incident.project)
    summary = runner.run_incident(settings, checkout, incident, payload, repo=table)
    _emit(summary, args.json)
    return 0


def _diagnose(args: argparse.Namespace, settings: Settings) -> int:
    from agent.diagnosis.report import diagnose_incident, render_report

    incident, _ = load_event_file(args.event)
    table, checkout = settings.target(args.repo, incident.project)
    report = diagnose_incident(settings.for_repo(table), checkout, incident, args.commit)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render_report(report))
    return 0


def _review(args: argparse.Namespace, settings: Settings) -> int:
    from agent.service import runner

    decision = ReviewDecision(action=args.action, comment=args.comment)
    summary = runner.review_pr(settings, args.pr, decision)
    _emit(summary, args.json)
    return 0


def _resume(args: argparse.Namespace, settings: Settings) -> int:
    from agent.service import runner

    _emit(runner.resume_incident(settings, args.incident), args.json)
    return 0


def _verify_pending(args: argparse.Namespace, settings: Settings) -> int:
    from agent import wiring
    from agent.service.worker import Worker

    checked = Worker(settings, wiring.inbox(settings)).check_releases()
    if args.json:
        print(json.dumps({"checked": [{"incident": i, "outcome": o} for i, o in checked]}))
    elif not checked:
        print("no run is waiting for a release")
    for incident, outcome in [] if args.json else checked:
        print(f"{incident}  {outcome}")
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from agent.service import runner

    if args.incident:
        _emit(runner.incident_status(settings, args.incident), args.json)
        return 0
    from agent.controls import overview

    runs = runner.list_incidents(settings)
    controls = overview.controls_view(settings, overview.held_counts(runs))
    if args.json:
        print(json.dumps({"incidents": runs, "controls": controls}, indent=2))
        return 0
    shown = overview.render(controls)
    if shown:
        print(shown)
    if not runs:
        print(f"no runs in {settings.home}")
    for run in runs:
        pr = f"PR #{run['pr']['id']}" if run["pr"] else "no PR"
        print(f"{run['incident']}  {run['status']:<16} {pr:<8} {run['title']}")
    return 0


def _graph(args: argparse.Namespace, settings: Settings) -> int:
    from agent.graph import build_graph

    print(build_graph().get_graph().draw_mermaid())
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from agent import wiring
    from evals import cli

    if args.cases and str(args.cases[0]) == "compare":
        return cli.compare_command(args.cases[1:])
    engines = [name.strip() for name in args.engine.split(",") if name.strip()]
    wiring.engines(settings.model_copy(update={"engines": engines}))
    return cli.eval_command(args, settings, engines)


def _index(args: argparse.Namespace, settings: Settings) -> int:
    from agent import wiring

    index, rev = wiring.code_index_of(settings, args.path, args.rev, args.exclude)
    stats = index.index(rev)
    figures = {
        "path": str(args.path),
        "rev": rev or None,
        **dataclasses.asdict(stats),
        "seconds": round(stats.seconds, 3),
        **peak_memory_mb(),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    elif args.stats:
        print(render_index_stats(figures))
    else:
        print(
            f"indexed {stats.files} files ({stats.parsed} parsed): "
            f"{stats.lines} lines, {stats.symbols} symbols in {stats.seconds:.2f} s"
        )
    return 0


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of this process, in MB."""
    import resource

    return {"peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def render_index_stats(figures: dict[str, Any]) -> str:
    where = f"{figures['path']} at {figures['rev'][:12]}" if figures["rev"] else figures["path"]
    workers = figures["workers"]
    parsing = f"{workers} worker processes" if workers > 1 else "in-process" if workers else "none"
    return "\n".join(
        [
            f"index of {where}",
            f"  files        {figures['files']}",
            f"  lines        {figures['lines']}",
            f"  symbols      {figures['symbols']}",
            f"  parsed       {figures['parsed']} (cached and duplicate files are not parsed)",
            f"  seconds      {figures['seconds']:.2f} (parsing: {parsing})",
            f"  peak memory  {figures['peak_memory_mb']:.0f} MB "
            f"(largest worker {figures['worker_peak_mb']:.0f} MB)",
        ]
    )


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from agent.service import server

    if args.no_worker:
        settings = settings.model_copy(update={"worker": False})
    host = args.host or settings.server_host
    port = settings.server_port if args.port is None else args.port
    settings = settings.model_copy(update={"server_host": host, "server_port": port})
    if not _checked_start(settings):
        return 2
    print(f"fixloop serve on http://{host}:{port} (Ctrl-C stops)", flush=True)
    print(f"web console: http://{host}:{port}/console", flush=True)
    server.serve(settings, host, port)
    return 0


def _checked_start(settings: Settings) -> bool:
    """`fixloop doctor`'s checks (no suite runs): one line per problem; False stops the start."""
    from agent.service.startup import check_start

    check = check_start(settings, worker=settings.worker)
    for warning in check.warnings:
        print(f"fixloop serve: warning: {warning}", file=sys.stderr)
    for problem in check.problems:
        print(f"fixloop serve: {problem}", file=sys.stderr)
    if check.problems:
        print("fixloop serve: not started (`fixloop doctor` checks further)", file=sys.stderr)
    return not check.problems


def _intake(args: argparse.Namespace, settings: Settings) -> int:
    from agent import wiring

    with wiring.sentry_intake(settings, args.port) as server:
        print(f"fixloop intake listening; DSN: {server.dsn()} (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("fixloop intake stopped", flush=True)
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from agent.demo.run import run_demo

    say = (lambda line: print(line, file=sys.stderr)) if args.json else print
    summary = run_demo(settings, args.workdir, say, command=_invocation())
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    return 0 if summary["status"] == "awaiting_review" else 1


def _invocation() -> str:
    """How the user can run fixloop again: `fixloop` when it is on PATH, else the path used."""
    used = Path(sys.argv[0])
    if used.name != "fixloop":
        return f"{Path(sys.executable).name} -m agent.service.cli"
    on_path = shutil.which("fixloop")
    if on_path and Path(on_path).resolve() == used.resolve():
        return "fixloop"
    return os.path.relpath(used) if not used.is_absolute() else str(used)


def _emit(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2, default=str))
        return
    print(render_summary(summary))


def render_summary(summary: dict[str, Any]) -> str:
    lines = [f"incident {summary['incident']}: {summary['title']}"]
    for entry in summary.get("audit", []):
        lines.append(f"  {entry['node']:<13} {entry['decided']}  — {entry['why']}")
    lines.append(f"status: {summary['status']}")
    if summary.get("held"):
        held = summary["held"]
        why = held.get("why") or f"paused by {held.get('by')}: {held.get('reason') or '-'}"
        lines.append(f"held before {held.get('before', 'open_pr')}: {why}")
    if summary["ticket"]:
        lines.append(f"ticket: {summary['ticket']['key']} ({summary['ticket']['status']})")
    if summary["pr"]:
        pr = summary["pr"]
        lines.append(f"pull request: #{pr['id']} on {pr['branch']} ({pr['status']})")
    usage = summary.get("usage")
    if usage:
        lines.append(
            f"model usage: {usage['tokens_in']} tokens in, {usage['tokens_out']} out, "
            f"${usage['cost_usd']:.4f}"
        )
    if summary.get("review_command"):
        lines.append(f"next: {summary['review_command']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
