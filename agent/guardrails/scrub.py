"""Scrub secrets and personal data from an incident before fixloop stores or uses it.

Modelled on Sentry's server-side data scrubbing. A value is sensitive when

* its key names a secret: sentry-sdk's own `DEFAULT_DENYLIST` and `DEFAULT_PII_DENYLIST`, plus
  `Settings.scrub_keys`, matched word by word (`db_password`, `authToken`, `X-Api-Key` match;
  `author` and `tokens` do not);
* a detect-secrets plugin recognises it (AWS, GitHub, Slack, Stripe, JWT, private keys, ...);
  the entropy-only and public-IP plugins are left out, they cannot tell a hash from a key;
* it is a URL's credentials, an `Authorization` scheme's token, the value of a sensitive key
  written as `key=value` or `key: value` in text, a Luhn-valid card number, an email address or
  a phone number (libphonenumber's matcher).

A scrubbed value becomes a stand-in of the same type and shape: each letter becomes `x` or `X`,
each digit `1` but zero, which stays `0` (a count or a divisor keeps its sign and whether it is
zero), everything else stays, so `'hunter2'` reads `'xxxxxx1'` and a reproduction built from it
still parses, compares and fails as the incident did. A stand-in scrubs to itself, so scrubbing
is idempotent and a last-line pass over an output built from scrubbed data leaves it unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST

from agent.domain import Incident

if TYPE_CHECKING:
    from detect_secrets.plugins.base import BasePlugin

STRUCTURAL_KEYS = frozenset(
    {
        "id",
        "event_id",
        "eventID",
        "fingerprint",
        "source",
        "type",
        "module",
        "function",
        "filename",
        "abs_path",
        "absPath",
        "lineno",
        "lineNo",
        "colno",
        "in_app",
        "inApp",
        "context_line",
        "pre_context",
        "post_context",
        "context",
        "platform",
        "level",
        "timestamp",
        "received_at",
        "datetime",
        "failing_tests",
        "tests",
        "kind",
        "count",
        "vars_cut",
        "cut_vars",
    }
)
"""Keys whose values name code, tests or the event itself, never user data: left as they are
unless they hold a mapping (a frame's source lines are the repository's own text, and test ids
must stay runnable)."""

FILTERED = "[Filtered]"
"""sentry-sdk's own mark of a value it scrubbed: kept, so intake still reads it as cut."""
EXTRA_DENYLIST = ("cookies", "passwords", "secrets", "credential", "dsn", "ssn")
"""Plurals and short forms sentry-sdk's lists, matched word by word, would miss."""
_SKIPPED_PLUGINS = frozenset(
    {"Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector", "KeywordDetector"}
)
_PEM = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S
)
_URL_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^\s/@]+)@")
_AUTH_SCHEME = re.compile(r"\b(?:Bearer|Basic|Token|Digest)\s+([A-Za-z0-9._~+/=-]{6,})", re.I)
_ASSIGNMENT = re.compile(
    r"([A-Za-z0-9_.-]+)[\"']?\s*[:=]\s*[\"']?([^\s\"',;&:=?}\])<>/][^\s\"',;&:=?}\])<>]*)"
)
_EXCEPTION_NAME = re.compile(r"[A-Z]\w*(?:Error|Exception|Warning)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_DIGIT_RUN = re.compile(r"(?<![\d.])\d+(?:[ -]\d+)*(?![\d.])")
_DIGIT_GROUP = re.compile(r"\d+")
_CARD_DIGITS = range(13, 20)
_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_~+/=-]")
_ESCAPE = re.compile(r"(\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\}|.))", re.S)
_DIGITS = re.compile(r"\d")
_MIN_PHONE_DIGITS = 7
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def stand_in(text: str) -> str:
    """The same text with each letter masked to `x`/`X` and each digit but 0 to `1`; backslash
    escapes (`\\n`, `\\x0a`, `\\u00e9`), as a `repr` writes them, are kept so it still parses."""
    return "".join(
        piece if piece.startswith("\\") else _mask(piece) for piece in _ESCAPE.split(text)
    )


def _mask(text: str) -> str:
    return "".join(
        ("X" if char.isupper() else "x")
        if char.isalpha()
        else ("0" if char == "0" else "1")
        if char.isdigit()
        else char
        for char in text
    )


def is_stand_in(text: str) -> bool:
    return all(char in "xX01" or not char.isalnum() for char in text)


class Scrubber:
    """Scrubs text and JSON-like data; one instance per set of extra sensitive key names."""

    def __init__(self, extra_keys: Iterable[str] = (), phone_region: str = "US") -> None:
        names = [*DEFAULT_DENYLIST, *DEFAULT_PII_DENYLIST, *EXTRA_DENYLIST, *extra_keys]
        self.denied = {tuple(_words(name)) for name in names if _words(name)}
        self.phone_region = phone_region

    def is_sensitive_key(self, key: str) -> bool:
        words = _words(key)
        return any(
            words[start : start + len(entry)] == list(entry)
            for entry in self.denied
            for start in range(len(words) - len(entry) + 1)
        )

    def text(self, text: str, *, assignments: bool = True) -> str:
        """`text` with every secret or personal value in it replaced by its stand-in.

        `assignments=False` leaves `key=value` text alone: for outputs that show code (a diff,
        a test), where `token = get_token()` is code, not a secret."""
        spans = sorted(self._spans(text, assignments))
        if not spans:
            return text
        pieces, position = [], 0
        for start, end in _merged(spans):
            pieces += [text[position:start], stand_in(text[start:end])]
            position = end
        pieces.append(text[position:])
        return "".join(pieces)

    def data(self, value: Any, *, sensitive: bool = False) -> Any:
        """Scrub JSON-like data: every value under a sensitive key whole, all other text by
        pattern; values under `STRUCTURAL_KEYS` are kept."""
        if isinstance(value, dict):
            return {
                key: item
                if key in STRUCTURAL_KEYS and not sensitive and not isinstance(item, dict)
                else self.data(item, sensitive=sensitive or self.is_sensitive_key(str(key)))
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            pair = len(value) == 2 and isinstance(value[0], str) and not sensitive
            if pair and self.is_sensitive_key(value[0]):
                return [value[0], self.data(value[1], sensitive=True)]
            return [self.data(item, sensitive=sensitive) for item in value]
        if isinstance(value, str):
            if value == FILTERED:
                return value
            return stand_in(value) if sensitive else self.text(value)
        if sensitive and isinstance(value, int) and not isinstance(value, bool):
            return _int_stand_in(value)
        if sensitive and isinstance(value, float):
            return 0.0
        return value

    def incident(self, incident: Incident) -> Incident:
        """The incident with its messages, variables, tags and labels scrubbed."""
        return Incident.model_validate(self.data(incident.model_dump(mode="json")))

    def _spans(self, text: str, assignments: bool) -> Iterator[tuple[int, int]]:
        for match in _PEM.finditer(text):
            yield match.span()
        yield from _detected(text)
        for pattern in (_URL_CREDENTIALS, _AUTH_SCHEME):
            for match in pattern.finditer(text):
                yield match.span(1)
        for match in _ASSIGNMENT.finditer(text) if assignments else ():
            key = match.group(1)
            if self.is_sensitive_key(key) and not _EXCEPTION_NAME.fullmatch(key):
                yield match.span(2)
        for match in _EMAIL.finditer(text):
            if not text.endswith("://", 0, match.start()):
                yield match.span()
        yield from _cards(text)
        yield from self._phones(text)

    def _phones(self, text: str) -> Iterator[tuple[int, int]]:
        if len(_DIGITS.findall(text)) < _MIN_PHONE_DIGITS:
            return
        import phonenumbers  # imported on first use: commands that scrub nothing start faster

        matcher = phonenumbers.PhoneNumberMatcher(
            text, self.phone_region, leniency=phonenumbers.Leniency.VALID
        )
        for match in matcher:
            yield match.start, match.end


def scrub_event(payload: dict[str, Any], extra_keys: Iterable[str] = ()) -> dict[str, Any]:
    """A payload (Sentry event, webhook, failing-test JSON) with its sensitive values scrubbed."""
    scrubbed: dict[str, Any] = _scrubber(tuple(extra_keys)).data(payload)
    return scrubbed


def scrub_intake(
    incident: Incident,
    payload: dict[str, Any],
    extra_keys: Iterable[str] = (),
    *,
    keep_raw: bool = False,
) -> tuple[Incident, dict[str, Any]]:
    """The boundary call: the incident scrubbed, and the payload to store (scrubbed unless
    `keep_raw`, the `keep_raw_payloads` setting)."""
    scrubber = _scrubber(tuple(extra_keys))
    return scrubber.incident(incident), payload if keep_raw else scrubber.data(payload)


def scrub_incident(incident: Incident, extra_keys: Iterable[str] = ()) -> Incident:
    return _scrubber(tuple(extra_keys)).incident(incident)


def scrub_output(text: str) -> str:
    """The last line before a write (ticket, PR, comment, log): secrets a detector recognises,
    credentials, card numbers, emails and phone numbers; `key=value` code is left alone."""
    return _scrubber(()).text(text, assignments=False)


@cache
def _scrubber(extra_keys: tuple[str, ...]) -> Scrubber:
    return Scrubber(extra_keys)


@cache
def _plugins() -> tuple[BasePlugin, ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    classes: Iterable[type[BasePlugin]] = get_mapping_from_secret_type_to_class().values()
    return tuple(cls() for cls in classes if cls.__name__ not in _SKIPPED_PLUGINS)


def _detected(text: str) -> Iterator[tuple[int, int]]:
    """Where a detect-secrets plugin finds a secret: from the start of its match (or of its
    first group) through the rest of the token, since some patterns match only a prefix."""
    for plugin in _plugins():
        if not any(plugin.analyze_line(filename="incident", line=text)):
            continue
        for regex in getattr(plugin, "denylist", ()):
            for match in regex.finditer(text):
                start = match.start(1) if regex.groups and match.start(1) >= 0 else match.start()
                end = match.end()
                while end < len(text) and _TOKEN_CHAR.match(text[end]):
                    end += 1
                yield start, end


def _merged(spans: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    start, end = spans[0]
    for next_start, next_end in spans[1:]:
        if next_start <= end:
            end = max(end, next_end)
        else:
            yield start, end
            start, end = next_start, next_end
    yield start, end


def _words(name: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(name)]


def _cards(text: str) -> Iterator[tuple[int, int]]:
    """Luhn-valid runs of 13 to 19 digits, grouped by spaces or dashes or not, wherever they
    start within a longer run of numbers."""
    for run in _DIGIT_RUN.finditer(text):
        groups = [
            (m.start() + run.start(), m.end() + run.start())
            for m in _DIGIT_GROUP.finditer(run.group())
        ]
        for first, (start, _) in enumerate(groups):
            digits = 0
            for end_start, end in groups[first:]:
                digits += end - end_start
                if digits > _CARD_DIGITS[-1]:
                    break
                if digits in _CARD_DIGITS and _luhn(text[start:end]):
                    yield start, end


def _luhn(number: str) -> bool:
    digits = [int(char) for char in number if char.isdigit()]
    if len(set(digits)) == 1:
        return False
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _int_stand_in(value: int) -> int:
    digits = len(str(abs(value)))
    masked = 10 ** (digits - 1) if digits > 1 else 1
    return -masked if value < 0 else masked
