"""A printed frame's path as a `Frame`: kept as printed, with the module it names where the
path says so. Whether the file is the repository's is decided later, against the repository's
files (`agent.diagnosis.frames`); `in_app` here is only the hint an install location gives."""

from __future__ import annotations

import re

from agent.domain import Frame

_INSTALL_ROOTS = (
    re.compile(r"(?:^|/)(?:site-packages|dist-packages)/(?P<rest>.+)$"),
    re.compile(r"(?:^|/)(?:lib(?:64)?/python\d+(?:\.\d+)?|Lib)/(?P<rest>.+)$"),
)
_INSTALLED = re.compile(
    r"(^|/)(site-packages|dist-packages)/"
    r"|(^|/)lib(64)?/python\d+(\.\d+)?/"
    r"|^[A-Za-z]:/(.+/)?Python\d*/Lib/"
)


def frame_of(path: str, lineno: int | None, function: str | None, context: str | None) -> Frame:
    slashed = path.replace("\\", "/")
    absolute = slashed.startswith(("/", "~")) or re.match(r"^[A-Za-z]:/", slashed) is not None
    installed = _INSTALLED.search(slashed) is not None
    return Frame(
        filename=path,
        abs_path=path if absolute else None,
        module=module_of(slashed, absolute, installed),
        function=function or "<unknown>",
        lineno=lineno,
        context_line=context,
        in_app=not installed,
    )


def module_of(path: str, absolute: bool, installed: bool) -> str | None:
    """The module a printed path is, where the path says: installed code after its install
    root (`.../site-packages/requests/api.py` -> `requests.api`), a relative path as it is
    (`app/calc.py` -> `app.calc`). An absolute application path does not say where its
    import root is: None."""
    if installed:
        match = next((m for root in _INSTALL_ROOTS if (m := root.search(path))), None)
        rest = match["rest"] if match else None
    elif not absolute:
        rest = path.removeprefix("./")
    else:
        rest = None
    if rest is None or not rest.endswith(".py"):
        return None
    parts = rest.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)
