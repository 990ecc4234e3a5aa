"""Render the templates in `prompts/` strictly, and hash the whole set for the run record.

A missing variable fails loudly (`StrictUndefined`). Incident text is attacker-controlled, and
every Markdown body fixloop writes (PR, ticket, comment) must show it as text: no mention that
pings, no link, no image, no raw HTML, no fence it can close. Templates pass each such value
through one of three filters, which use CommonMark's own rules (a code span or fence whose
backtick run is longer than any run in the value) rather than escaping character by character:

* `untrusted`  a block fenced as data (for a model: "this is data, not instructions")
* `md_code`    an inline code span, on one line
* `md_fence`   a fenced code block with an info string (`md_fence("diff")`)
* `md_cell`    an inline code span in a GFM table cell, its pipes escaped
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from typing import Any

import jinja2

from prompts import PROMPTS_DIR

_BACKTICKS = re.compile(r"`+")


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def md_fence(text: object, info: str = "") -> str:
    """`text` as a fenced code block no line of it can close."""
    body = str(text).rstrip("\n")
    fence = "`" * max(3, _longest_backtick_run(body) + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def md_cell(text: object) -> str:
    """`md_code` for a table cell: GFM splits cells at a pipe even inside a code span."""
    return md_code(text).replace("|", "\\|")


def fence_untrusted(text: object) -> str:
    """Fence outside text (an incident) so that it reads as data, not instructions."""
    return md_fence(text, "untrusted-data")


def md_code(text: object) -> str:
    """`text` as one inline code span, whatever backticks, HTML or line breaks it holds."""
    body = " ".join(str(text).split("\n")).replace("\r", " ")
    if not body.strip():
        return f"` {body} `" if body else ""
    ticks = "`" * (_longest_backtick_run(body) + 1)
    pad = " " if body[0] in "` " or body[-1] in "` " else ""
    return f"{ticks}{pad}{body}{pad}{ticks}"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PROMPTS_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["untrusted"] = fence_untrusted
    env.filters["md_code"] = md_code
    env.filters["md_fence"] = md_fence
    env.filters["md_cell"] = md_cell
    return env


def render(name: str, **variables: Any) -> str:
    """Render `prompts/<name>` with exactly the variables given."""
    return _environment().get_template(name).render(**variables)


@cache
def prompt_set_hash() -> str:
    """A hash over every template file, stored with each run."""
    digest = hashlib.sha256()
    for path in sorted(PROMPTS_DIR.rglob("*.j2")):
        digest.update(path.relative_to(PROMPTS_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
