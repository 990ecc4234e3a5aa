"""Golden index of one small repository per language, over a real git repository.

Each `tests/fixtures/code_index/<language>/` folder is committed to a fresh repository and
indexed; `<language>.expected.json` beside it holds the expected definitions (qualified names,
kinds, line ranges, parameters), calls with their enclosing definition, and the answers to the
enclosing, callers and callees questions it lists. After a deliberate change to a query,
`python -m tests.adapters.test_code_index_golden` rewrites the expected files: review their diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import FIXTURES
from tests.support.repo_builder import RepoBuilder
from tools.code_index import TreeSitterIndex
from tools.git_repo import GitRepo

CODE_INDEX = FIXTURES / "code_index"
LANGUAGES = ["python", "javascript", "typescript", "go", "java"]


def _index(language: str, where: Path) -> TreeSitterIndex:
    root = CODE_INDEX / language
    files = {
        path.relative_to(root).as_posix(): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
    builder = RepoBuilder(where)
    builder.commit(files, f"{language} fixture")
    return TreeSitterIndex(GitRepo(builder.path))


def _answers(index: TreeSitterIndex, questions: dict[str, Any]) -> dict[str, Any]:
    root_files = sorted(questions["symbols"])
    answers: dict[str, Any] = {"symbols": {}, "references": {}}
    for path in root_files:
        answers["symbols"][path] = [
            [s.qualname, s.kind, s.start_line, s.end_line, s.params]
            for s in index.symbols("HEAD", path)
        ]
        answers["references"][path] = [
            [r.name, r.line, r.scope] for r in index.references("HEAD", path)
        ]
    answers["enclosing"] = {}
    for where in questions["enclosing"]:
        path, line = where.rsplit(":", 1)
        symbol = index.enclosing("HEAD", path, int(line))
        answers["enclosing"][where] = symbol.qualname if symbol else None
    for question in ("callers", "callees"):
        answers[question] = {}
        for target in questions[question]:
            path, qualname = target.split("::")
            found = getattr(index, question)("HEAD", path, qualname)
            answers[question][target] = [[r.path, r.line, r.name, r.scope] for r in found]
    return answers


@pytest.mark.parametrize("language", LANGUAGES)
def test_golden_index(language: str, tmp_path: Path) -> None:
    expected = json.loads((CODE_INDEX / f"{language}.expected.json").read_text())
    assert _answers(_index(language, tmp_path / "repo"), expected) == expected


def _rewrite(language: str, where: Path) -> None:
    target = CODE_INDEX / f"{language}.expected.json"
    questions = json.loads(target.read_text())
    answers = _answers(_index(language, where), questions)
    lines = ["{"]
    sections = list(answers.items())
    for number, (section, content) in enumerate(sections):
        lines.append(f"  {json.dumps(section)}: {{")
        items = list(content.items())
        for item_number, (key, value) in enumerate(items):
            if isinstance(value, list) and value:
                rows = ",\n".join(f"      {json.dumps(row)}" for row in value)
                body = f"[\n{rows}\n    ]"
            else:
                body = json.dumps(value)
            comma = "," if item_number < len(items) - 1 else ""
            lines.append(f"    {json.dumps(key)}: {body}{comma}")
        lines.append("  }" + ("," if number < len(sections) - 1 else ""))
    lines.append("}")
    target.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    import tempfile

    for name in sys.argv[1:] or LANGUAGES:
        with tempfile.TemporaryDirectory() as scratch:
            _rewrite(name, Path(scratch) / "repo")
