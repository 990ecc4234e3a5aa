"""Eval case directories written by hand, in the case format of evals/README.md."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.repo_builder import RepoBuilder, git

RATES_GUARDED = '''\
def per_unit(total, count):
    """Price per unit in cents; nothing sold means no price."""
    if not count:
        return 0
    return total / count
'''
RATES_BUGGY = '''\
def per_unit(total, count):
    """Price per unit in cents; nothing sold means no price."""
    return total / count
'''
BUG_MESSAGE = "rates: drop the redundant count check"


def write_rates_case(root: Path, case_id: str = "handwritten-rates") -> tuple[Path, str]:
    """A crash case: `per_unit` lost its guard; the event is written by hand, not captured.

    Returns the case directory and the sha of the bug commit.
    """
    work = root / f"{case_id}-src"
    repo = RepoBuilder(work)
    repo.commit(
        {
            "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["."]\n',
            "billing/__init__.py": "",
            "billing/rates.py": RATES_GUARDED,
            "tests/test_rates.py": (
                "from billing.rates import per_unit\n\n\n"
                "def test_per_unit():\n    assert per_unit(10, 4) == 2.5\n"
            ),
        },
        "billing: per-unit rates",
    )
    bug = repo.commit({"billing/rates.py": RATES_BUGGY}, BUG_MESSAGE)
    repo.commit({"README.md": "# billing\n"}, "Add a README")
    case = root / case_id
    (case / "hidden" / "tests").mkdir(parents=True)
    git(work, "bundle", "create", str(case / "repo.bundle"), "--all")
    (case / "hidden" / "tests" / "test_hidden_rates.py").write_text(
        "from billing.rates import per_unit\n\n\n"
        "def test_nothing_sold():\n    assert per_unit(10, 0) == 0\n\n\n"
        "def test_normal():\n    assert per_unit(9, 3) == 3\n"
    )
    (case / "case.toml").write_text(
        f'id = "{case_id}"\n'
        'title = "ZeroDivisionError in per_unit for a product with no sales"\n'
        'expect = "fix"\n'
        'tags = ["crash", "division-by-zero", "python", "library"]\n'
        'test_command = "python -m pytest -q tests"\n'
        'hidden_test_command = "python -m pytest -q tests/test_hidden_rates.py"\n\n'
        "[gold]\n"
        'file = "billing/rates.py"\n'
        'function = "per_unit"\n'
        "lines = [1, 3]\n"
        f'commit = "{bug}"\n'
    )
    frame = {
        "filename": "billing/rates.py",
        "abs_path": "/srv/billing/billing/rates.py",
        "module": "billing.rates",
        "function": "per_unit",
        "lineno": 3,
        "pre_context": [
            "def per_unit(total, count):",
            '    """Price per unit in cents; nothing sold means no price."""',
        ],
        "context_line": "    return total / count",
        "post_context": [],
        "in_app": True,
        "vars": {"total": "10", "count": "0"},
    }
    event = {
        "event_id": "5f1c0a8e2b7d4c3f9e6a1b2c3d4e5f60",
        "platform": "python",
        "level": "error",
        "release": git(work, "rev-parse", "HEAD"),
        "environment": "production",
        "exception": {
            "values": [
                {
                    "type": "ZeroDivisionError",
                    "value": "division by zero",
                    "mechanism": {"type": "excepthook", "handled": False},
                    "stacktrace": {"frames": [frame]},
                }
            ]
        },
    }
    (case / "incident.json").write_text(json.dumps(event, indent=2))
    return case, bug
