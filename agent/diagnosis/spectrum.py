"""Spectrum-based fault localization: Ochiai over the lines failing and passing tests ran.

A line that every failing test runs and few passing tests run is suspicious:
ochiai(l) = failed(l) / sqrt(total_failed * (failed(l) + passed(l))). Lines are lifted to
their enclosing symbols (a symbol scores as its most suspicious line). Test files are never
suspects; they stay evidence through the tests that ran them. Pure: it reads the coverage a
sandbox run recorded (`TestRun.coverage`) and the code index.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from agent.domain import Symbol
from agent.ports import CodeIndex

MAX_SYMBOLS = 20
"""How many of the most suspicious symbols are returned."""

Coverage = Mapping[str, Mapping[str, list[int]]]
"""Per test node id, the lines it ran by repository path."""


@dataclass
class Spectrum:
    """The tests of one coverage run, split by outcome, and the lines each ran."""

    failed: set[str]
    passed: set[str]
    coverage: Coverage

    @property
    def usable(self) -> bool:
        """True when at least one failing test has coverage: otherwise Ochiai says nothing."""
        return any(self.coverage.get(test) for test in self.failed)


@dataclass
class SymbolScore:
    symbol: Symbol
    score: float
    line: int
    """Its most suspicious line."""
    failed: int
    passed: int
    failing_tests: list[str] = field(default_factory=list)


def line_scores(spectrum: Spectrum) -> dict[tuple[str, int], tuple[float, int, int]]:
    """(path, line) -> (ochiai, failing tests that ran it, passing tests that ran it)."""
    failed_counts: dict[tuple[str, int], int] = {}
    passed_counts: dict[tuple[str, int], int] = {}
    for tests, counts in ((spectrum.failed, failed_counts), (spectrum.passed, passed_counts)):
        for test in tests:
            for path, lines in spectrum.coverage.get(test, {}).items():
                for line in lines:
                    counts[(path, line)] = counts.get((path, line), 0) + 1
    total_failed = len([t for t in spectrum.failed if t in spectrum.coverage])
    scores = {}
    for key, failed in failed_counts.items():
        passed = passed_counts.get(key, 0)
        scores[key] = (failed / math.sqrt(total_failed * (failed + passed)), failed, passed)
    return scores


def suspicious_symbols(
    spectrum: Spectrum, index: CodeIndex, rev: str, is_test: Callable[[str], bool]
) -> list[SymbolScore]:
    """The symbols outside test code holding the most suspicious lines, best first."""
    best: dict[tuple[str, str], SymbolScore] = {}
    for (path, line), (score, failed, passed) in line_scores(spectrum).items():
        if is_test(path):
            continue
        symbol = index.enclosing(rev, path, line)
        if symbol is None or symbol.kind == "class":
            continue
        key = (path, symbol.qualname)
        current = best.get(key)
        if current is None or (score, -line) > (current.score, -current.line):
            best[key] = SymbolScore(symbol, score, line, failed, passed)
    ranked = sorted(best.values(), key=lambda s: (-s.score, s.symbol.path, s.symbol.start_line))
    for item in ranked[:MAX_SYMBOLS]:
        item.failing_tests = sorted(
            test
            for test in spectrum.failed
            if item.line in spectrum.coverage.get(test, {}).get(item.symbol.path, [])
        )
    return ranked[:MAX_SYMBOLS]


__all__ = ["Coverage", "Spectrum", "SymbolScore", "line_scores", "suspicious_symbols"]
