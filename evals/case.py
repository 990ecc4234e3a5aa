"""One eval case on disk: `case.toml`, `repo.bundle`, `incident.json`, `hidden/`.

The format is documented in `evals/README.md`. `load_case` reads and checks a directory and
raises `CaseError` with one line naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent.errors import FixloopError

REQUIRED_FILES = ("case.toml", "repo.bundle", "incident.json")
PYTEST_OPTIONS_WITH_VALUE = {
    "-k",
    "-m",
    "-p",
    "-c",
    "-o",
    "--deselect",
    "--ignore",
    "--ignore-glob",
    "--rootdir",
    "--confcutdir",
    "--maxfail",
    "--tb",
    "-W",
}


class CaseError(FixloopError):
    """A case directory is not in the case format."""


@dataclass(frozen=True)
class Gold:
    file: str
    function: str
    lines: tuple[int, int] | None = None
    commit: str | None = None


@dataclass(frozen=True)
class PytestCommand:
    """A case's test command read as pytest: its options, and the paths it collects."""

    options: list[str]
    paths: list[str]


@dataclass(frozen=True)
class Case:
    path: Path
    id: str
    title: str
    expect: Literal["fix", "escalate"]
    tags: tuple[str, ...]
    test_command: str
    hidden_test_command: str
    setup: str | None = None
    python: str | None = None
    """The interpreter that runs the case's tests (a real case's own environment)."""
    gold: Gold | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def bundle(self) -> Path:
        return self.path / "repo.bundle"

    @property
    def incident_file(self) -> Path:
        return self.path / "incident.json"

    @property
    def hidden_dir(self) -> Path:
        return self.path / "hidden"

    @property
    def bug_class(self) -> str:
        """The tag that is neither the incident kind, the language nor the kind of app."""
        generic = {"crash", "wrong-value", "python", *APP_KINDS}
        return next((tag for tag in self.tags if tag not in generic), "unclassified")

    @property
    def app(self) -> str | None:
        return next((tag for tag in self.tags if tag in APP_KINDS), None)

    @property
    def kind(self) -> str | None:
        return next((tag for tag in self.tags if tag in ("crash", "wrong-value")), None)

    def digest(self) -> str:
        """A hash of every file of the case: a stored result is reused only for the same case."""
        sha = hashlib.sha256()
        for file in sorted(p for p in self.path.rglob("*") if p.is_file()):
            sha.update(str(file.relative_to(self.path)).encode() + b"\0")
            sha.update(file.read_bytes())
        return sha.hexdigest()


APP_KINDS = ("web-handler", "cli", "data-pipeline", "library", "worker", "config")


def find_cases(paths: list[Path]) -> list[Path]:
    """Case directories named by `paths`: a case directory itself, or a directory of them."""
    found: list[Path] = []
    for path in paths:
        if (path / "case.toml").is_file():
            found.append(path)
        elif path.is_dir():
            children = sorted(child for child in path.iterdir() if (child / "case.toml").is_file())
            if not children:
                raise CaseError(f"{path}: neither a case (no case.toml) nor a directory of cases")
            found.extend(children)
        else:
            raise CaseError(f"{path}: no such case directory")
    return list(dict.fromkeys(p.resolve() for p in found))


def load_case(path: Path) -> Case:
    for name in REQUIRED_FILES:
        if not (path / name).is_file():
            raise CaseError(f"{path}: missing {name}")
    try:
        data = tomllib.loads((path / "case.toml").read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CaseError(f"{path / 'case.toml'}: {error}") from None
    where = path / "case.toml"
    case_id = _text(data, "id", where)
    expect = data.get("expect", "fix")
    if expect not in ("fix", "escalate"):
        raise CaseError(f"{where}: expect is {expect!r}, expected 'fix' or 'escalate'")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise CaseError(f"{where}: tags must be a list of strings")
    test_command = _text(data, "test_command", where)
    parse_pytest_command(test_command, where)
    hidden = data.get("hidden_test_command") or ""
    if not isinstance(hidden, str):
        raise CaseError(f"{where}: hidden_test_command must be a string")
    if hidden:
        parse_pytest_command(hidden, where)
    setup = data.get("setup")
    if setup is not None and not isinstance(setup, str):
        raise CaseError(f"{where}: setup must be a string")
    python = data.get("python")
    if python is not None and not isinstance(python, str):
        raise CaseError(f"{where}: python must be a string (a path to an interpreter)")
    known = {"id", "title", "expect", "tags", "test_command", "hidden_test_command", "setup"}
    known |= {"python"}
    return Case(
        path=path.resolve(),
        id=case_id,
        title=str(data.get("title", case_id)),
        expect=expect,
        tags=tuple(tags),
        test_command=test_command,
        hidden_test_command=hidden,
        setup=setup or None,
        python=python or None,
        gold=_gold(data.get("gold"), where),
        extra={key: value for key, value in data.items() if key not in known | {"gold"}},
    )


def parse_pytest_command(command: str, where: Path | str = "test command") -> PytestCommand:
    """Split `python -m pytest [options] [paths]` (or `pytest ...`) into options and paths."""
    try:
        argv = shlex.split(command)
    except ValueError as error:
        raise CaseError(f"{where}: cannot read command {command!r}: {error}") from None
    if argv[:1] == ["pytest"] or argv[:1] == ["py.test"]:
        rest = argv[1:]
    elif len(argv) >= 3 and argv[0] in ("python", "python3") and argv[1:3] == ["-m", "pytest"]:
        rest = argv[3:]
    else:
        raise CaseError(
            f"{where}: {command!r} is not a pytest command; fixloop runs tests with pytest "
            "('python -m pytest [options] [paths]')"
        )
    options: list[str] = []
    paths: list[str] = []
    takes_value = False
    for arg in rest:
        if takes_value:
            options.append(arg)
            takes_value = False
        elif arg.startswith("-"):
            options.append(arg)
            takes_value = arg in PYTEST_OPTIONS_WITH_VALUE
        else:
            paths.append(arg)
    return PytestCommand(options=options, paths=paths)


def _text(data: dict[str, Any], key: str, where: Path) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CaseError(f"{where}: {key} is missing or not a non-empty string")
    return value


def _gold(raw: object, where: Path) -> Gold | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise CaseError(f"{where}: [gold] must be a table")
    file = raw.get("file")
    function = raw.get("function")
    if not isinstance(file, str) or not isinstance(function, str):
        raise CaseError(f"{where}: [gold] needs file and function as strings")
    lines = raw.get("lines")
    if lines is not None and not (
        isinstance(lines, list) and len(lines) == 2 and all(isinstance(n, int) for n in lines)
    ):
        raise CaseError(f"{where}: [gold] lines must be [first, last]")
    commit = raw.get("commit")
    if commit is not None and not isinstance(commit, str):
        raise CaseError(f"{where}: [gold] commit must be a sha string")
    return Gold(
        file=file,
        function=function,
        lines=(lines[0], lines[1]) if lines else None,
        commit=commit,
    )
