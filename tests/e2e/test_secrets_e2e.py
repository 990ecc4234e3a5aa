"""A real sentry-sdk event full of secrets and personal data, carried through the whole loop.

The crashing function's locals, its exception message, a breadcrumb, tags and extra data carry
every kind of the corpus. After `fixloop run` (ticket, diagnosis, proof, PR) not one of them is
in anything fixloop wrote: the state directory's databases and files, its output, the target
repository's refs, commits and files. The reproduction, built from stand-ins, still fails as the
incident did and the fix is still proven.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import fixloop
from tests.support.repo_builder import RepoBuilder
from tests.support.secrets_corpus import ALL, FREE, KEYED, values_in
from tests.support.sentry_events import sentry_event

pytestmark = pytest.mark.slow

BILLING_V1 = """\
PRICES = {"SKU-1": 5, "SKU-2": 7}


def order_total(order, customer, payment, vault, profile):
    total = 0
    for sku, qty in order["lines"]:
        if sku not in PRICES:
            continue
        total += PRICES[sku] * qty
    return total
"""

BILLING_V2 = BILLING_V1.replace(
    "            continue\n",
    "            raise LookupError(f\"unknown sku {sku} for {customer} ({order['note']})\")\n",
)

TESTS = """\
from shop.billing import order_total


def test_known_skus_are_priced():
    assert order_total({"lines": [("SKU-1", 2)], "note": ""}, {}, {}, {}, {}) == 10
"""


def _groups() -> list[dict[str, str]]:
    """The corpus in mappings of at most eight entries (sentry-sdk keeps ten per mapping):
    four of values recognised by their form, then the one of values under sensitive keys."""
    items = list(FREE.items())
    return [dict(items[start : start + 8]) for start in range(0, len(items), 8)] + [KEYED]


def _trigger() -> str:
    customer, payment, vault, extra, profile = _groups()
    note = " ".join(extra.values())
    order = {"lines": [("SKU-1", 1), ("SKU-9", 2)], "note": note}
    args = ", ".join(repr(part) for part in (order, customer, payment, vault, profile))
    return f"order_total({args})"


def _setup() -> str:
    extra = _groups()[3]
    return (
        "import sentry_sdk\n"
        "from shop.billing import order_total\n"
        f"sentry_sdk.add_breadcrumb(message={' '.join(extra.values())!r}, category='http')\n"
        f"sentry_sdk.set_tag('auth_token', {KEYED['auth_token']!r})\n"
        f"sentry_sdk.set_tag('contact', {ALL['email']!r})\n"
        f"sentry_sdk.set_extra('request_headers', {{'Authorization': {ALL['bearer_header']!r}}})\n"
    )


def _written(home: Path, repo: Path, output: str) -> dict[str, bytes]:
    """Everything fixloop wrote, by where: files of the state directory, its output, and the
    repository's refs, every commit with its patch, and its working tree."""
    written = {str(path): path.read_bytes() for path in home.rglob("*") if path.is_file()}
    written["output"] = output.encode()

    def git(*args: str) -> bytes:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True).stdout

    written["refs"] = git("for-each-ref")
    written["commits"] = git("log", "--all", "-p", "--format=%H%n%an %ae%n%B")
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            written[str(path)] = path.read_bytes()
    return written


def test_no_secret_of_the_incident_reaches_anything_fixloop_writes(tmp_path: Path) -> None:
    repo = tmp_path / "shop"
    builder = RepoBuilder(repo)
    files = {"shop/__init__.py": "", "shop/billing.py": BILLING_V1, "tests/test_billing.py": TESTS}
    builder.commit(files, "billing: order totals")
    builder.commit({"shop/billing.py": BILLING_V2}, "billing: refuse unknown skus")
    event = sentry_event(repo, _setup(), _trigger())
    raw = json.dumps(event)
    secrets = [piece for value in ALL.values() for piece in values_in(value)]
    assert sum(piece in raw for piece in secrets) >= len(ALL) - 1, "the event lost the corpus"
    event_file = tmp_path / "event.json"
    event_file.write_text(raw)

    home = tmp_path / "state"
    result = fixloop(home, "run", "--repo", str(repo), "--event", str(event_file), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "awaiting_review", summary.get("audit")
    reproduction = summary["diagnosis"]["reproduction"]
    assert reproduction and reproduction["reproduced"], reproduction

    written = _written(home, repo, result.stdout + result.stderr)
    leaks = [
        (piece, where)
        for piece in secrets
        for where, data in written.items()
        if piece.encode() in data
    ]
    assert leaks == []
