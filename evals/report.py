"""Show an eval run: a summary table for the terminal, the JSON file, a self-contained HTML page.

The HTML page has no scripts and loads nothing: charts are inline SVG, built here.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from evals.summary import DEFECTS, METRICS, WAYS

TEMPLATES = Path(__file__).resolve().parent / "templates"
HEADLINE = ("top1", "top3", "file_top1", "suspect_commit", "proven", "correct")


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")


def terminal_summary(report: dict[str, Any]) -> str:
    summary = report["summary"]
    lines = [
        f"{summary['cases']} cases, {summary['errors']} errors, "
        f"wall time {report['run']['wall_seconds']}s "
        f"(case median {summary['seconds_median']}s, p90 {summary['seconds_p90']}s); "
        f"tokens {summary['tokens_in']} in / {summary['tokens_out']} out, "
        f"${summary['cost_usd']:.2f}",
        "",
    ]
    width = max(len(label) for _, label in METRICS)
    for key, label in METRICS:
        lines.append(f"  {label:<{width}}  {format_rate(summary[key])}")
    lines.append(f"    built from: {built_from(summary)}")
    for key, label in DEFECTS:
        lines.append(f"  {label + ' (must be 0)':<{width}}  {summary.get(key, 0):>3}")
    abstain = summary.get("abstain") or {}
    lines.append(
        f"  evidence bar: {abstain.get('prs_opened', 0)} PRs opened, "
        f"{abstain.get('abstained', 0)} proven fixes held back: "
        f"{abstain.get('wrong_prs_avoided', 0)} wrong PRs avoided, "
        f"{abstain.get('right_prs_lost', 0)} right PRs lost"
    )
    if summary["patched_when_escalation_was_right"]:
        lines.append(
            f"  proven patches on cases to escalate: {summary['patched_when_escalation_was_right']}"
        )
    lines += ["", _group_table("bug class", summary["by_bug_class"])]
    if len(summary.get("by_suite", {})) > 1:
        lines += ["", suites_table(summary["by_suite"])]
    return "\n".join(lines)


def built_from(summary: dict[str, Any]) -> str:
    """How the reproductions were built: `crashing frame 3, outer frame 1, ...`."""
    counts = summary.get("reproduced_by") or {}
    return ", ".join(f"{label} {counts.get(key, 0)}" for key, label in WAYS)


SUITE_ROWS = (
    ("top1", "function top 1"),
    ("top3", "function top 3"),
    ("suspect_commit", "suspect commit"),
    ("proven", "proven"),
    ("correct", "correct"),
)


def suites_table(suites: dict[str, dict[str, Any]]) -> str:
    """The suites side by side: one column per suite, one row per headline figure."""
    names = list(suites)
    label = max(len(text) for text in [*(t for _, t in SUITE_ROWS), "proven but wrong"])
    width = max(12, *(len(name) for name in names))
    rows = ["  " + " " * label + "".join(f"  {name:>{width}}" for name in names)]
    rows.append(
        "  "
        + f"{'cases':<{label}}"
        + "".join(f"  {suites[name]['cases']:>{width}}" for name in names)
    )
    for key, text in SUITE_ROWS:
        cells = [format_rate(suites[name][key]).strip() for name in names]
        rows.append("  " + f"{text:<{label}}" + "".join(f"  {c:>{width}}" for c in cells))
    wrong = [str(suites[name]["wrong_proven"]) for name in names]
    rows.append("  " + f"{'proven but wrong':<{label}}" + "".join(f"  {c:>{width}}" for c in wrong))
    seconds = [f"{suites[name]['seconds_median']}s" for name in names]
    rows.append("  " + f"{'median seconds':<{label}}" + "".join(f"  {c:>{width}}" for c in seconds))
    return "\n".join(rows)


def format_rate(figure: dict[str, Any]) -> str:
    if not figure["of"]:
        return "-"
    return f"{figure['hits']:>3}/{figure['of']:<3} {100 * figure['rate']:5.1f}%"


def _group_table(title: str, groups: dict[str, dict[str, Any]]) -> str:
    width = max([len(title), *(len(name) for name in groups)])
    heads = ["cases", "top1", "top3", "commit", "proven", "correct", "escal."]
    keys = ["top1", "top3", "suspect_commit", "proven", "correct", "escalated_correctly"]
    rows = [f"  {title:<{width}}  " + "  ".join(f"{h:>7}" for h in heads)]
    for name, figures in groups.items():
        cells = [str(figures["cases"]), *(_short(figures[key]) for key in keys)]
        rows.append(f"  {name:<{width}}  " + "  ".join(f"{c:>7}" for c in cells))
    return "\n".join(rows)


def _short(figure: dict[str, Any]) -> str:
    return f"{figure['hits']}/{figure['of']}" if figure["of"] else "-"


def write_html(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report))


def render_html(report: dict[str, Any]) -> str:
    """The self-contained HTML page of an eval run."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["rate"] = format_rate
    summary = report["summary"]
    return environment.get_template("report.html.j2").render(
        report=report,
        summary=summary,
        metrics=METRICS,
        built_from=built_from(summary),
        metric_chart=Markup(metric_chart(summary)),
        class_chart=Markup(group_chart(summary["by_bug_class"])),
        app_chart=Markup(group_chart(summary["by_app"])),
        time_chart=Markup(time_chart([case["seconds"] for case in report["cases"]])),
    )


# --- charts (inline SVG) ------------------------------------------------------------------

BAR = 18
GAP = 8
LABEL = 250
PLOT = 420
GREEN, AMBER, GREY = "#2f9e44", "#f08c00", "#dee2e6"


def metric_chart(summary: dict[str, Any]) -> str:
    """One horizontal bar per metric: the share of cases that hit it."""
    rows = [(label, summary[key]) for key, label in METRICS if summary[key]["of"]]
    height = len(rows) * (BAR + GAP) + GAP
    parts = [_svg_open(LABEL + PLOT + 90, height, "Share of cases per metric")]
    for index, (label, figure) in enumerate(rows):
        y = GAP + index * (BAR + GAP)
        width = PLOT * (figure["rate"] or 0)
        parts += [
            _text(LABEL - 8, y + BAR - 5, label, anchor="end"),
            _rect(LABEL, y, PLOT, BAR, GREY),
            _rect(LABEL, y, width, BAR, GREEN),
            _text(LABEL + PLOT + 6, y + BAR - 5, f"{figure['hits']}/{figure['of']}"),
        ]
    return "".join([*parts, "</svg>"])


def group_chart(groups: dict[str, dict[str, Any]]) -> str:
    """One stacked bar per group: correct, proven but not correct, and the rest."""
    height = len(groups) * (BAR + GAP) + GAP + 24
    parts = [_svg_open(LABEL + PLOT + 90, height, "Outcome per group")]
    for index, (name, figures) in enumerate(groups.items()):
        y = GAP + index * (BAR + GAP)
        total = figures["cases"] or 1
        correct = figures["correct"]["hits"] + figures["escalated_correctly"]["hits"]
        proven_only = figures["proven"]["hits"] - figures["correct"]["hits"]
        good = PLOT * correct / total
        amber = PLOT * max(proven_only, 0) / total
        parts += [
            _text(LABEL - 8, y + BAR - 5, name, anchor="end"),
            _rect(LABEL, y, PLOT, BAR, GREY),
            _rect(LABEL, y, good, BAR, GREEN),
            _rect(LABEL + good, y, amber, BAR, AMBER),
            _text(LABEL + PLOT + 6, y + BAR - 5, f"{correct}/{figures['cases']}"),
        ]
    legend_y = height - 8
    parts += [
        _rect(LABEL, legend_y - 10, 10, 10, GREEN),
        _text(LABEL + 14, legend_y, "correct fix or right escalation"),
        _rect(LABEL + 210, legend_y - 10, 10, 10, AMBER),
        _text(LABEL + 224, legend_y, "proven, fails hidden tests"),
    ]
    return "".join([*parts, "</svg>"])


def time_chart(seconds: list[float], buckets: int = 12) -> str:
    """A histogram of wall time per case."""
    if not seconds:
        return ""
    top = max(seconds) or 1.0
    step = top / buckets
    counts = [0] * buckets
    for value in seconds:
        counts[min(int(value / step), buckets - 1)] += 1
    column = 40
    height = 160
    peak = max(counts) or 1
    parts = [_svg_open(buckets * column + 40, height + 40, "Wall time per case")]
    for index, count in enumerate(counts):
        bar = (height - 20) * count / peak
        x = 20 + index * column
        parts += [
            _rect(x, height - bar, column - 4, bar, GREEN),
            _text(x + column / 2 - 2, height - bar - 4, str(count) if count else "", "middle"),
            _text(x + column / 2 - 2, height + 16, f"{(index + 1) * step:.0f}s", "middle"),
        ]
    return "".join([*parts, "</svg>"])


def _svg_open(width: float, height: float, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-label="{html.escape(title)}"><title>{html.escape(title)}</title>'
    )


def _rect(x: float, y: float, width: float, height: float, fill: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{height:.1f}" '
        f'fill="{fill}" rx="2"/>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="12" text-anchor="{anchor}" '
        f'font-family="system-ui, sans-serif">{html.escape(text)}</text>'
    )
