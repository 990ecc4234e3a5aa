"""`python -m evals.builders [--list] [CASE_ID ...]`: rebuild cases into `evals/cases/`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path

from evals.builders.kit import CASES_DIR, CaseBuildError, CaseSpec, build_case

NOT_APPS = {
    "kit",
    "harness",
    "__main__",
    "real",
    "real_mine",
    "sdists",
    "pasted",
    "pasted_score",
    "pasted_capture",
    "mutants",
    "mutations",
}


def all_specs() -> list[CaseSpec]:
    """Every `CaseSpec` of every application module in this package, in module order."""
    package = Path(__file__).parent
    specs: list[CaseSpec] = []
    for module in sorted(pkgutil.iter_modules([str(package)]), key=lambda m: m.name):
        if module.name in NOT_APPS or module.name.startswith("_"):
            continue
        specs.extend(importlib.import_module(f"evals.builders.{module.name}").CASES)
    ids = [spec.id for spec in specs]
    duplicated = sorted({case_id for case_id in ids if ids.count(case_id) > 1})
    if duplicated:
        raise CaseBuildError(f"case ids defined twice: {duplicated}")
    return specs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.builders")
    parser.add_argument("cases", nargs="*", help="case ids to build (default: all)")
    parser.add_argument("--list", action="store_true", help="list the case ids and stop")
    parser.add_argument("--out", type=Path, default=CASES_DIR, help="where cases are written")
    args = parser.parse_args(argv)
    specs = all_specs()
    if args.list:
        for spec in specs:
            print(f"{spec.id}\t{spec.app}\t{spec.bug_class}\t{spec.kind}\t{spec.expect}")
        return 0
    unknown = sorted(set(args.cases) - {spec.id for spec in specs})
    if unknown:
        print(f"unknown case ids: {unknown}", file=sys.stderr)
        return 2
    chosen = [spec for spec in specs if not args.cases or spec.id in args.cases]
    failed = 0
    for spec in chosen:
        started = time.monotonic()
        try:
            build_case(spec, args.out)
        except CaseBuildError as error:
            failed += 1
            print(f"FAIL {spec.id}: {error}", file=sys.stderr)
            continue
        print(f"ok   {spec.id} ({time.monotonic() - started:.1f}s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
