"""Fuzz `fixloop serve`: no request may get a 5xx, hang, or drop its connection.

    python -m evals.fuzz_server                          # 10,000 requests, at most 15 min
    python -m evals.fuzz_server --requests 2000 --seconds 120 --seed 3 --json

Starts `fixloop serve` (real uvicorn, worker off) in a subprocess on a free loopback port with a
temporary state directory and known secrets, then sends:

1. schema: cases schemathesis generates from the server's OpenAPI schema (`/openapi.json`),
   valid and invalid (positive and negative modes), for every operation;
2. signed: hypothesis-generated bodies of the shapes each endpoint reads (Sentry webhooks and
   events, PagerDuty pages, GitHub pull requests and CI runs, ingest store and envelopes) with
   hostile text in every string (lone surrogates, control and non-BMP characters), timestamps
   that are no time, Latin-1 bytes in headers, missing fields; signed with the configured
   secrets (or the DSN key) so that they reach past authentication;
3. raw: over sockets, slow-loris bodies and headers that never finish (the server must answer
   408 in time) and control bytes in a header (its HTTP parser must answer 400).

Prints the requests sent, a histogram of statuses, the 5xx count, hangs (no answer within
`--timeout`), dropped connections, and whether `/metrics` counted every answer. Loopback only;
every phase is bounded by `--seconds`. Exits 1 when any request got a 5xx, hung or was dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from evals import fuzz_payloads
from evals.serving import wait_until_healthy

BODY_READ_TIMEOUT = 2.0
RAW_PROBES = 30


@dataclass
class Tally:
    """What the server answered, by phase."""

    statuses: Counter[int] = field(default_factory=Counter)
    by_phase: Counter[str] = field(default_factory=Counter)
    hangs: int = 0
    dropped: int = 0
    unsendable: int = 0
    """Generated requests the HTTP client itself refused to send (not counted as sent)."""
    slowest: float = 0.0
    parser_answers: int = 0
    """Answers of uvicorn's HTTP parser (bad header bytes), which never reach the app."""
    faults: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(self.by_phase.values())

    def answer(self, phase: str, what: str, status: int, elapsed: float) -> None:
        self.by_phase[phase] += 1
        self.statuses[status] += 1
        self.slowest = max(self.slowest, elapsed)
        if status >= 500 and len(self.faults) < 20:
            self.faults.append(f"{status} {what}")

    def failed(self, phase: str, what: str, hang: bool) -> None:
        self.by_phase[phase] += 1
        if hang:
            self.hangs += 1
        else:
            self.dropped += 1
        if len(self.faults) < 20:
            self.faults.append(("hang " if hang else "dropped ") + what)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fuzz_server")
    parser.add_argument("--requests", type=int, default=10_000, help="requests to send in all")
    parser.add_argument("--seconds", type=float, default=900.0, help="time budget in all")
    parser.add_argument("--timeout", type=float, default=10.0, help="a slower answer is a hang")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    started = time.monotonic()
    deadline = started + args.seconds
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="fixloop-fuzz-") as scratch:
        port = _free_port()
        server = _start_server(Path(scratch), port)
        base = f"http://127.0.0.1:{port}"
        try:
            schema_share = args.requests // 2
            _schema_phase(base, tally, schema_share, deadline, args)
            signed_share = args.requests - tally.sent - RAW_PROBES
            _signed_phase(base, tally, signed_share, deadline, args)
            _raw_phase(port, tally, args.timeout)
            counted = _metrics_total(base)
            alive = server.poll() is None
        finally:
            server.terminate()
            server.wait(timeout=30)
        tracebacks = (Path(scratch) / "server.log").read_text(errors="replace").count("Traceback")
    figures = _figures(tally, counted, alive, time.monotonic() - started)
    figures["server_tracebacks"] = tracebacks
    _report(figures, args.json)
    return 0 if figures["5xx"] == 0 and not tally.hangs and not tally.dropped else 1


def _figures(tally: Tally, counted: int, alive: bool, seconds: float) -> dict[str, Any]:
    answered = sum(tally.statuses.values())
    return {
        "requests_sent": tally.sent,
        "by_phase": dict(tally.by_phase),
        "statuses": {str(status): n for status, n in sorted(tally.statuses.items())},
        "5xx": sum(n for status, n in tally.statuses.items() if status >= 500),
        "hangs": tally.hangs,
        "dropped_connections": tally.dropped,
        "unsendable_by_client": tally.unsendable,
        "slowest_answer_s": round(tally.slowest, 3),
        "metrics_counted": counted,
        "metrics_count_every_answer": counted >= answered - tally.parser_answers,
        "server_alive": alive,
        "seconds": round(seconds, 1),
        "faults": tally.faults,
    }


def _report(figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    print(f"requests sent        {figures['requests_sent']}  {figures['by_phase']}")
    print(f"statuses             {figures['statuses']}")
    print(f"5xx                  {figures['5xx']}")
    print(f"hangs                {figures['hangs']}")
    print(f"dropped connections  {figures['dropped_connections']}")
    print(f"client refused       {figures['unsendable_by_client']} (never sent)")
    print(f"slowest answer       {figures['slowest_answer_s']} s")
    print(
        f"/metrics counted     {figures['metrics_counted']} answers (all: "
        f"{figures['metrics_count_every_answer']}), server alive: {figures['server_alive']}"
    )
    print(f"server tracebacks    {figures['server_tracebacks']}")
    print(f"wall time            {figures['seconds']} s")
    for fault in figures["faults"]:
        print(f"  {fault}")


def _draw(
    strategy: st.SearchStrategy[Any], count: int, seed: int, send: Callable[[Any], None]
) -> None:
    """Feed up to `count` values of `strategy` to `send` (hypothesis stops early on a small
    space; nothing is shrunk, as `send` never fails)."""
    if count <= 0:
        return

    @hypothesis_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value: Any) -> None:
        send(value)

    with contextlib.suppress(Unsatisfiable):  # an operation without parameters: no invalid case
        run()


def _schema_phase(
    base: str, tally: Tally, budget: int, deadline: float, args: argparse.Namespace
) -> None:
    import schemathesis
    from schemathesis.core.result import Ok
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    session = requests.Session()
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    share = max(budget // (len(operations) * len(modes)), 1)

    def send(case: Any) -> None:
        if time.monotonic() > deadline or tally.sent >= budget:
            return
        what = f"{case.method} {case.formatted_path}"
        started = time.monotonic()
        try:
            response = case.call(base_url=base, session=session, timeout=args.timeout)
        except requests.Timeout:
            tally.failed("schema", what, hang=True)
        except requests.ConnectionError:
            tally.failed("schema", what, hang=False)
            session.close()
        except (ValueError, requests.RequestException):
            tally.unsendable += 1
        else:
            tally.answer("schema", what, response.status_code, time.monotonic() - started)

    for round_ in range(100):
        before = tally.sent
        for operation in operations:
            for mode in modes:
                strategy = operation.as_strategy(generation_mode=mode)
                _draw(strategy, share, args.seed + round_, send)
        if tally.sent in (before, budget) or time.monotonic() > deadline:
            break


def _signed_phase(
    base: str, tally: Tally, budget: int, deadline: float, args: argparse.Namespace
) -> None:
    limit = tally.sent + budget
    with httpx.Client(base_url=base, timeout=args.timeout) as client:

        def send(request: fuzz_payloads.SignedRequest) -> None:
            if time.monotonic() > deadline or tally.sent >= limit:
                return
            path, headers, body = request.ready(time.time())
            started = time.monotonic()
            try:
                response = client.post(path, content=body, headers=headers)
            except httpx.LocalProtocolError:
                tally.unsendable += 1
            except httpx.TimeoutException:
                tally.failed("signed", f"POST {path}", hang=True)
            except (httpx.TransportError, httpx.RemoteProtocolError) as error:
                tally.failed("signed", f"POST {path[:60]} ({error!r}) {headers}"[:600], hang=False)
            except (ValueError, httpx.HTTPError):
                tally.unsendable += 1
            else:
                tally.answer(
                    "signed", f"POST {path}", response.status_code, time.monotonic() - started
                )

        while tally.sent < limit and time.monotonic() < deadline:
            before = tally.sent
            _draw(fuzz_payloads.signed_requests(), limit - tally.sent, args.seed + tally.sent, send)
            if tally.sent == before:
                break


def _raw_phase(port: int, tally: Tally, timeout: float) -> None:
    """Over raw sockets: bodies and headers that never finish (each must be refused, 408, within
    the read timeouts), and control bytes in a header, which no HTTP client sends (the server's
    HTTP parser must answer 400)."""
    head = "POST /webhooks/sentry HTTP/1.1\r\nHost: fuzz\r\nContent-Type: application/json\r\n"
    for number in range(RAW_PROBES):
        kind = number % 3
        slow = kind != 1
        if kind == 0:
            what = "slow body"
            request = f"{head}Content-Length: {1000 + number}\r\n\r\n".encode() + b'{"data": '
        elif kind == 2:
            what = "slow headers"
            request = f"{head}X-Never-Ends: ".encode() + b"a" * number
        else:
            junk = bytes([number % 32 if number % 32 not in (9, 10, 13) else 0x7F])
            what = f"header byte {junk!r}"
            request = f"{head}Sentry-Hook-Signature: a".encode() + junk + b"\r\n"
            request += b"Content-Length: 2\r\n\r\n{}"
        started = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
                conn.sendall(request)
                answer = conn.recv(4096)
        except TimeoutError:
            tally.failed("raw", what, hang=True)
            continue
        except OSError:
            tally.failed("raw", what, hang=False)
            continue
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
        tally.answer("raw", what, status, time.monotonic() - started)
        tally.parser_answers += not slow


def _metrics_total(base: str) -> int:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith("fixloop_requests_total{")
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(scratch: Path, port: int) -> subprocess.Popen[bytes]:
    secrets = fuzz_payloads.SECRETS
    env = {key: value for key, value in os.environ.items() if not key.startswith("FIXLOOP_")} | {
        "FIXLOOP_HOME": str(scratch / "state"),
        "FIXLOOP_SENTRY_CLIENT_SECRET": secrets.sentry,
        "FIXLOOP_PAGERDUTY_WEBHOOK_SECRETS": json.dumps([secrets.pagerduty]),
        "FIXLOOP_GITHUB_WEBHOOK_SECRET": secrets.github,
        "FIXLOOP_INGEST_KEYS": json.dumps([secrets.dsn_key]),
        "FIXLOOP_BODY_READ_TIMEOUT": str(BODY_READ_TIMEOUT),
        "FIXLOOP_HEADER_READ_TIMEOUT": str(BODY_READ_TIMEOUT),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent.service.cli",
            "serve",
            "--no-worker",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        cwd=scratch,
        stdout=subprocess.DEVNULL,
        stderr=(scratch / "server.log").open("wb"),
    )
    return wait_until_healthy(server, port)


if __name__ == "__main__":
    sys.exit(main())
