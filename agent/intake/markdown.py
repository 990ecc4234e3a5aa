"""Markdown (a bug report, an issue body) made plain text for the traceback reader.

Code fences and the HTML tags GitHub's issue forms wrap logs in (`<details>`, `<summary>`,
`<pre>`) are blanked, each to an empty line, so a traceback inside a fence ends where the fence
does and nothing of the markup joins its exception message. Everything else is kept as written.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s{0,3}(```+|~~~+)[^`]*$")
_WRAPPER_TAG = re.compile(r"^\s*(</?(details|summary|pre|code)\b[^>]*>\s*)+$", re.IGNORECASE)


def plain_text(markdown: str) -> str:
    """`markdown` with fence lines and lines of only wrapper tags made empty."""
    lines = markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(
        "" if _FENCE.match(line) or _WRAPPER_TAG.match(line) else line for line in lines
    )
