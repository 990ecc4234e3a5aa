"""Incidents built from source text: a frame on the line holding a needle, above a library frame."""

from __future__ import annotations

from agent.domain import ExceptionInfo, Frame, Incident


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def frame(path: str, text: str, needle: str, function: str, prefix: str = "/app/") -> Frame:
    lineno = line_of(text, needle)
    lines = text.splitlines()
    return Frame(
        filename=path,
        abs_path=prefix + path,
        module=path.removesuffix(".py").replace("/", "."),
        function=function,
        lineno=lineno,
        context_line=lines[lineno - 1],
        pre_context=lines[max(0, lineno - 4) : lineno - 1],
        post_context=lines[lineno : lineno + 3],
        in_app=True,
    )


def incident(exception_type: str, value: str, frames: list[Frame]) -> Incident:
    library = Frame(
        filename="threading.py",
        abs_path="/usr/lib/python3.11/threading.py",
        function="run",
        lineno=975,
        in_app=False,
    )
    return Incident(
        id="inc-1",
        source="sentry_event",
        fingerprint="fp-1",
        title=f"{exception_type}: {value}",
        exceptions=[ExceptionInfo(type=exception_type, value=value, frames=[library, *frames])],
    )
