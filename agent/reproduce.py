"""Reproduction v1: a pytest test rebuilt from the crashing frame's captured local variables.

The test imports the suspect function and calls it with the arguments the incident captured.
It is only a candidate until `check_reproduction` has seen it fail on the base commit with the
incident's exception. v1 handles module-level functions whose arguments are Python literals;
anything else yields no reproduction, and the reason is logged and available from
`make_reproduction` (which raises `NotRebuildable`).
"""

from __future__ import annotations

import ast
import logging
import math
import re
from dataclasses import dataclass

from agent.domain import Diagnosis, ExceptionInfo, Frame, Incident, Reproduction, TestRun
from agent.ports import Repo

log = logging.getLogger(__name__)

_TRUNCATION_MARKS = ("...", "[Filtered]")


class NotRebuildable(Exception):
    """A captured value, frame or function that v1 cannot turn into a reproduction."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def rebuild_value(value: object) -> object:
    """Rebuild one captured local from its Sentry (JSON of reprs) or fixloop (repr) form."""
    if isinstance(value, str):
        if value.endswith(_TRUNCATION_MARKS):
            raise NotRebuildable(f"value looks truncated or filtered: {_clip(value)}")
        try:
            rebuilt = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as error:
            raise NotRebuildable(f"not a Python literal: {_clip(value)}") from error
        _check_round_trip(rebuilt)
        return rebuilt
    if isinstance(value, list):
        return [rebuild_value(item) for item in value]
    if isinstance(value, dict):
        # Sentry writes mapping keys as plain strings, not reprs.
        return {str(key): rebuild_value(item) for key, item in value.items()}
    if value is None or isinstance(value, bool | int | float):
        _check_round_trip(value)
        return value
    raise NotRebuildable(f"unsupported captured value of type {type(value).__name__}")


def build_reproduction(
    incident: Incident, diagnosis: Diagnosis, repo: Repo, rev: str
) -> Reproduction | None:
    """A reproduction test for the incident, or None (the reason is logged)."""
    try:
        return make_reproduction(incident, diagnosis, repo, rev)
    except NotRebuildable as refusal:
        log.info("no reproduction for incident %s: %s", incident.id, refusal.reason)
        return None


def make_reproduction(
    incident: Incident, diagnosis: Diagnosis, repo: Repo, rev: str
) -> Reproduction:
    """Like `build_reproduction`, but raises `NotRebuildable` with the reason instead of None."""
    crash = incident.crash
    if crash is None or not crash.frames:
        raise NotRebuildable("the incident has no stack frames")
    if not diagnosis.suspects:
        raise NotRebuildable("the diagnosis names no suspect")
    suspect = diagnosis.suspects[0]
    name = suspect.symbol
    if name is not None and "." in name:
        raise NotRebuildable(f"{name} is a method or nested function; v1 handles module level")
    frame = _crash_frame(crash.frames, suspect.file, name)
    module = module_name(suspect.file)
    source = repo.read(rev, suspect.file)
    if source is None:
        raise NotRebuildable(f"{suspect.file} does not exist at {rev}")
    function = _module_function(source, frame.function, suspect.file)
    call = _call_arguments(function, frame.vars)
    ident = re.sub(r"\W", "_", incident.id)
    filename = f"test_fixloop_repro_{ident}.py"
    test_name = f"test_reproduces_{ident}"
    text = _test_source(incident, frame, suspect.file, module, function.name, call, test_name)
    return Reproduction(
        filename=filename,
        source=text,
        nodeid=f"{filename}::{test_name}",
        target_file=suspect.file,
        target_function=function.name,
        reproduced=False,
        reason="not yet run on the base commit",
    )


def check_reproduction(
    reproduction: Reproduction, run: TestRun, incident: Incident
) -> Reproduction:
    """Mark the reproduction reproduced iff it failed in `run` with the incident's exception."""
    crash = incident.crash
    expected = _short_type(crash.type) if crash else None
    outcome = run.outcomes.get(reproduction.nodeid)
    failures = run.failures.get(reproduction.nodeid, [])
    if run.timed_out:
        reason = "the test run timed out"
    elif outcome is None and run.outcomes.get(reproduction.filename) == "error":
        reason = f"cannot be collected: {_describe(run.failures.get(reproduction.filename, []))}"
    elif outcome is None:
        reason = "did not run on the base commit"
    elif outcome == "passed":
        reason = "passes on the base commit: the captured arguments do not trigger the crash"
    elif outcome == "skipped":
        reason = "was skipped on the base commit"
    elif not failures:
        reason = f"{outcome} without an exception"
    elif _short_type(failures[-1].type) == expected:
        return _checked(reproduction, True, f"fails with {expected} as in the incident")
    else:
        reason = f"fails with {_short_type(failures[-1].type)}, not {expected}"
    return _checked(reproduction, False, reason)


def module_name(path: str) -> str:
    """The dotted module a repository file is imported as: `src/pkg/mod.py` -> `pkg.mod`."""
    parts = path.removeprefix("./").removeprefix("src/").removesuffix(".py").split("/")
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(part.isidentifier() for part in parts):
        raise NotRebuildable(f"{path} is not an importable Python module")
    return ".".join(parts)


@dataclass(frozen=True)
class _Call:
    positional: list[object]
    keywords: dict[str, object]
    star_args: tuple[object, ...] | None = None
    star_kwargs: dict[str, object] | None = None

    def render(self) -> str:
        parts = [_literal(value) for value in self.positional]
        if self.star_args is not None:
            parts.append(f"*{_literal(self.star_args)}")
        parts += [f"{name}={_literal(value)}" for name, value in self.keywords.items()]
        if self.star_kwargs is not None:
            parts.append(f"**{_literal(self.star_kwargs)}")
        return ", ".join(parts)


def _crash_frame(frames: list[Frame], path: str, symbol: str | None) -> Frame:
    """The innermost frame that is the suspect: its file, and its function when named."""
    for frame in reversed(frames):
        if _same_file(frame, path) and (symbol is None or frame.function == symbol):
            return frame
    crash = frames[-1]
    raise NotRebuildable(
        f"the crash frame ({crash.filename}:{crash.lineno} in {crash.function}) "
        f"is not the top suspect {path}::{symbol or '?'}"
    )


def _same_file(frame: Frame, path: str) -> bool:
    path = path.removeprefix("./")
    names = [name for name in (frame.filename, frame.abs_path) if name]
    return any(name == path or name.endswith("/" + path) for name in names)


def _module_function(source: str, name: str, path: str) -> ast.FunctionDef:
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise NotRebuildable(f"{path} does not parse: {error}") from error
    # The last definition is the one the module ends up with.
    for node in reversed(tree.body):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
        if isinstance(node, ast.AsyncFunctionDef) and node.name == name:
            raise NotRebuildable(f"{name} is a coroutine function; v1 calls plain functions")
    raise NotRebuildable(
        f"{name} is not a module-level function of {path} (a method or nested function?)"
    )


def _call_arguments(function: ast.FunctionDef, captured: dict[str, object]) -> _Call:
    spec = function.args
    ordered = spec.posonlyargs + spec.args
    first_default = len(ordered) - len(spec.defaults)
    star_args = _star_args(spec.vararg, captured)
    star_kwargs = _star_kwargs(spec.kwarg, captured)
    positional: list[object] = []
    keywords: dict[str, object] = {}
    missing: list[str] = []
    for index, arg in enumerate(ordered):
        by_position = index < len(spec.posonlyargs) or star_args is not None
        if arg.arg not in captured:
            if index < first_default:
                raise NotRebuildable(f"parameter {arg.arg!r} was not captured")
            missing.append(arg.arg)
            continue
        if by_position and missing:
            raise NotRebuildable(f"{missing[0]!r} was not captured but later arguments were")
        value = _rebuild_param(arg.arg, captured[arg.arg])
        if by_position:
            positional.append(value)
        else:
            keywords[arg.arg] = value
    for arg, default in zip(spec.kwonlyargs, spec.kw_defaults, strict=True):
        if arg.arg in captured:
            keywords[arg.arg] = _rebuild_param(arg.arg, captured[arg.arg])
        elif default is None:
            raise NotRebuildable(f"keyword-only parameter {arg.arg!r} was not captured")
    return _Call(positional, keywords, star_args, star_kwargs)


def _star_args(arg: ast.arg | None, captured: dict[str, object]) -> tuple[object, ...] | None:
    if arg is None or arg.arg not in captured:
        return None
    value = _rebuild_param(arg.arg, captured[arg.arg])
    if not isinstance(value, list | tuple):
        raise NotRebuildable(f"captured *{arg.arg} is not a sequence")
    return tuple(value) or None


def _star_kwargs(arg: ast.arg | None, captured: dict[str, object]) -> dict[str, object] | None:
    if arg is None or arg.arg not in captured:
        return None
    value = _rebuild_param(arg.arg, captured[arg.arg])
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise NotRebuildable(f"captured **{arg.arg} is not a mapping of names")
    return value or None


def _rebuild_param(name: str, value: object) -> object:
    try:
        return rebuild_value(value)
    except NotRebuildable as refusal:
        raise NotRebuildable(f"parameter {name!r}: {refusal.reason}") from refusal


def _test_source(
    incident: Incident,
    frame: Frame,
    path: str,
    module: str,
    function: str,
    call: _Call,
    test_name: str,
) -> str:
    crash = incident.crash
    crash_text = f"{crash.type}: {crash.value}" if crash else "unknown"
    return (
        f'"""Reproduction of incident {_doc(incident.id)}: {_doc(incident.title)}.\n'
        f"\n"
        f"Crash site: {_doc(path)}:{frame.lineno} in {function} ({_doc(crash_text)}).\n"
        f"Written by fixloop from the local variables the incident captured in that frame.\n"
        f'"""\n'
        f"\n"
        f"from {module} import {function}\n"
        f"\n"
        f"\n"
        f"def {test_name}():\n"
        f"    {function}({call.render()})\n"
    )


def _doc(text: str) -> str:
    """Incident text made safe inside a triple-quoted docstring (it is attacker-controlled)."""
    flat = " ".join(text.split()).replace("\\", "/").replace('"', "'")
    return _clip(flat, 160)


def _literal(value: object) -> str:
    _check_round_trip(value)
    return repr(value)


def _check_round_trip(value: object) -> None:
    """Only values whose repr reads back as the same literal can be written into a test."""
    if isinstance(value, float) and not math.isfinite(value):
        raise NotRebuildable(f"{value!r} cannot be written as a literal")
    try:
        same = ast.literal_eval(repr(value)) == value
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        same = False
    if not same:
        raise NotRebuildable(f"{_clip(repr(value))} does not read back as a literal")


def _checked(reproduction: Reproduction, reproduced: bool, reason: str) -> Reproduction:
    return reproduction.model_copy(update={"reproduced": reproduced, "reason": reason})


def _describe(failures: list[ExceptionInfo]) -> str:
    if not failures:
        return "no exception recorded"
    final = failures[-1]
    return f"{_short_type(final.type)}: {final.value}"


def _short_type(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
