"""Render the templates in `prompts/` strictly, and hash the whole set for the run record.

A missing variable fails loudly (`StrictUndefined`). Incident text is attacker-controlled:
templates wrap it with the `untrusted` filter, which fences it as data.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

import jinja2

from prompts import PROMPTS_DIR


def fence_untrusted(text: object) -> str:
    """Fence outside text (an incident) so that it reads as data, not instructions."""
    body = str(text).replace("```", "`\u200b``")
    return f"```untrusted-data\n{body}\n```"


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
