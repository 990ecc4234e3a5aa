"""One pasted case on disk: `case.toml` (what the report is about) and `report.txt` (its text).

```toml
project = "babel"                 # the PyPI name
version = "2.12.1"                # the version the reporter ran
previous = "2.12.0"               # the release before it: the parent commit
version_sha256 = "..."            # of each source distribution, as downloaded
previous_sha256 = "..."
url = "https://github.com/OWNER/NAME/issues/N"
gold = ["babel/core.py::Locale.parse"]   # functions the fix changed, path::qualname
```
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from agent.errors import FixloopError

_SHA256 = re.compile(r"[0-9a-f]{64}")


class SpecError(FixloopError):
    """A pasted case directory is not in the format above."""


@dataclass(frozen=True)
class PastedCase:
    name: str
    project: str
    version: str
    previous: str
    version_sha256: str
    previous_sha256: str
    url: str
    gold: tuple[tuple[str, str], ...]
    """(path, qualname) of each gold function."""
    report: str


def load_pasted(path: Path) -> PastedCase:
    spec_file = path / "case.toml"
    try:
        spec = tomllib.loads(spec_file.read_text(encoding="utf-8"))
        report = (path / "report.txt").read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise SpecError(f"{path}: missing {Path(str(error.filename)).name}") from None
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{spec_file}: {error}") from None
    text = {}
    for key in ("project", "version", "previous", "version_sha256", "previous_sha256", "url"):
        value = spec.get(key)
        if not isinstance(value, str) or not value:
            raise SpecError(f"{spec_file}: '{key}' must be a non-empty string")
        text[key] = value
    for key in ("version_sha256", "previous_sha256"):
        if not _SHA256.fullmatch(text[key]):
            raise SpecError(f"{spec_file}: '{key}' is not a sha256 hex digest")
    gold = spec.get("gold")
    if not isinstance(gold, list) or not gold or not all(_is_gold(g) for g in gold):
        raise SpecError(f"{spec_file}: 'gold' must list 'path.py::qualname' strings")
    return PastedCase(
        name=path.name,
        project=text["project"],
        version=text["version"],
        previous=text["previous"],
        version_sha256=text["version_sha256"],
        previous_sha256=text["previous_sha256"],
        url=text["url"],
        gold=tuple((g.split("::", 1)[0], g.split("::", 1)[1]) for g in gold),
        report=report,
    )


def pasted_cases(root: Path, names: list[str] | None = None) -> list[PastedCase]:
    """The cases under `root` (or those named), in name order."""
    found = sorted(p for p in root.iterdir() if (p / "case.toml").is_file())
    if names:
        known = {p.name: p for p in found}
        missing = [name for name in names if name not in known]
        if missing:
            raise SpecError(f"no such pasted case under {root}: {', '.join(missing)}")
        found = [known[name] for name in names]
    return [load_pasted(path) for path in found]


def _is_gold(value: object) -> bool:
    if not isinstance(value, str) or "::" not in value:
        return False
    path, qualname = value.split("::", 1)
    return path.endswith(".py") and bool(qualname)
