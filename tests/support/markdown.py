"""Checks that Markdown fixloop writes renders hostile text as text (markdown-it-py, CommonMark)."""

from __future__ import annotations

from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token

HOSTILE = [
    "@team please look",
    "[click](https://evil.example/x)",
    "![pixel](https://evil.example/p.png)",
    "<img src=x onerror=alert(1)>",
    "<!-- everything after this is hidden",
    "` <b>bold</b> `",
    "``` \n# heading\n```",
    "<https://evil.example/auto>",
    "</details><script>alert(1)</script>",
    "a | b\n\n| --- |",
]
OWN_HTML = {
    "<details><summary>Reproduction test (not part of this diff)</summary>\n",
    "</details>\n",
}


def walk(tokens: list[Token], in_code: bool = False) -> Iterator[tuple[Token, bool]]:
    for token in tokens:
        code = in_code or token.type in {"code_inline", "fence", "code_block"}
        yield token, code
        if token.children:
            yield from walk(token.children, code)


def problems(text: str) -> list[str]:
    found = []
    for token, in_code in walk(MarkdownIt("commonmark").enable("table").parse(text)):
        if token.type in {"link_open", "image"}:
            found.append(f"{token.type} {token.attrs}")
        if token.type in {"html_inline", "html_block"} and token.content not in OWN_HTML:
            found.append(f"{token.type} {token.content!r}")
        if token.type == "text" and not in_code and "@" in token.content:
            found.append(f"mention in {token.content!r}")
    return found
