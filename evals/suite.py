"""A suite file: a named subset of the corpus and the floor its figures must not drop below.

```toml
cases = ["web-orders-none-attribute", "cli-invoicer-off-by-one"]   # ids under `root`
root = "cases"          # relative to this file (default: evals/cases); a case is a case
                        # directory, or a real-bug spec `<root>/<id>.toml` (see evals/real/)
[floor]
proven = 6              # any rate of evals.summary.METRICS, as a count of hits
correct = 5
```

A mutant suite (`projects`, `seed`, `quota`, `tries`: see evals/builders/mutants.py) is a suite
file too: its `[floor]` holds for the mutants it builds.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import FixloopError
from evals.builders.mutants import is_mutant_spec
from evals.summary import DEFECTS, METRICS


@dataclass(frozen=True)
class Suite:
    cases: list[Path]
    floor: dict[str, int]


def load_suite(path: Path) -> Suite:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FixloopError(f"{path}: no such suite file") from None
    except tomllib.TOMLDecodeError as error:
        raise FixloopError(f"{path}: {error}") from None
    floor = data.get("floor", {})
    known = {key for key, _ in METRICS}
    if not isinstance(floor, dict) or not all(
        key in known and isinstance(value, int) for key, value in floor.items()
    ):
        raise FixloopError(f"{path}: [floor] maps metrics ({', '.join(sorted(known))}) to counts")
    if is_mutant_spec(path):  # a mutant suite with its floor: its mutants, built when it runs
        return Suite(cases=[path], floor=dict(floor))
    ids = data.get("cases")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise FixloopError(f"{path}: 'cases' must be a non-empty list of case ids")
    root = path.parent / str(data.get("root", "cases"))
    cases: list[Path] = []
    missing: list[str] = []
    for case in ids:
        if (root / case / "case.toml").is_file():
            cases.append(root / case)
        elif (root / f"{case}.toml").is_file():
            cases.append(root / f"{case}.toml")  # a real-bug spec, built when the suite runs
        else:
            missing.append(case)
    if missing:
        raise FixloopError(f"{path}: no such case under {root}: {', '.join(missing)}")
    return Suite(cases=cases, floor=dict(floor))


def below_floor(summary: dict[str, Any], floor: dict[str, int]) -> list[str]:
    """One line per metric whose hits dropped below the floor, and per defect that happened
    (a wrong fix proven, a PR without a test that failed before): those must stay 0 in every
    suite, whatever its floor."""
    dropped = [
        f"{key}: {summary[key]['hits']} < floor {minimum}"
        for key, minimum in floor.items()
        if summary[key]["hits"] < minimum
    ]
    defects = [f"{label}: {summary[key]} (must be 0)" for key, label in DEFECTS if summary.get(key)]
    return dropped + defects
