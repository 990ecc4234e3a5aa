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
* `md_text`    prose (a model's title or rationale) as text: ASCII punctuation backslash-escaped,
               words that could mention or link (`@`, `://`, `www.`) as code spans

`md_title` makes a one-line title of such text (control and format characters gone, words that
carry markup as code spans), for PR titles, where GitHub renders only code spans.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
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


_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
_LINKING = re.compile(r"@|://|www\.", re.IGNORECASE)
_MARKUP = re.compile(r"@|://|www\.|[<>\[\]!`#*_~|\\]", re.IGNORECASE)
TITLE_LIMIT = 120


def md_text(text: object) -> str:
    """`text` as Markdown that renders as the same text: lines kept, no markup of its own."""
    lines = []
    for line in _printable(str(text)).split("\n"):
        pieces = re.split(r"(\s+)", line)
        lines.append(
            "".join(
                md_code(piece)
                if _LINKING.search(piece)
                else _PUNCTUATION.sub(lambda m: "\\" + m.group(), piece)
                for piece in pieces
            )
        )
    return "\n".join(lines)


def md_title(text: object, limit: int = TITLE_LIMIT) -> str:
    """`text` as one title line of at most about `limit` characters; words that carry markup
    (a mention, a link, HTML, emphasis, an issue reference) become code spans."""
    line = " ".join(_printable(str(text)).split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return " ".join(md_code(word) if _MARKUP.search(word) else word for word in line.split(" "))


def plain_text(text: str) -> str:
    """`text` without control and format characters (terminal escapes, bidi overrides,
    zero-width characters), line breaks and tabs kept: for a commit message."""
    return _printable(text)


def _printable(text: str) -> str:
    text = text.replace("\r\n", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PROMPTS_DIR)),
        bytecode_cache=_bytecode_cache(),
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
    env.filters["md_text"] = md_text
    env.filters["md_title"] = md_title
    return env


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between processes (keyed by each template's source checksum, in
    Jinja's private per-user temporary folder): a short command need not compile its template
    again. None when that folder cannot be made."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


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
