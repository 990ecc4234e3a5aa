"""A fake Slack Web API: `chat.postMessage` into channels with threads, for the real
`slack_sdk.WebClient` (pointed here by its `base_url`)."""

from __future__ import annotations

from typing import Any

from tests.support.fakes.http import FakeServer, Request

CHANNEL_ID = "C0FIXLOOP"


class FakeSlack(FakeServer):
    def __init__(self, token: str, channel: str = "#incidents") -> None:
        self.token = token
        self.channel = channel
        self.messages: list[dict[str, Any]] = []
        self.refuse: str | None = None
        """An error code every call answers with (e.g. `channel_not_found`), when set."""
        super().__init__([("POST", r"/api/chat\.postMessage", self._post)])

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    def thread(self, ts: str) -> list[dict[str, Any]]:
        """The root message `ts` and its replies, in the order they were posted."""
        return [m for m in self.messages if m["ts"] == ts or m.get("thread_ts") == ts]

    def roots(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("thread_ts") is None]

    def _post(self, request: Request) -> tuple[int, Any]:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth"}
        if self.refuse:
            return 200, {"ok": False, "error": self.refuse}
        body = request.body or {}
        if body.get("channel") not in (self.channel, CHANNEL_ID):
            return 200, {"ok": False, "error": "channel_not_found"}
        thread_ts = body.get("thread_ts")
        if thread_ts is not None and not any(m["ts"] == thread_ts for m in self.messages):
            return 200, {"ok": False, "error": "thread_not_found"}
        ts = f"1700000000.{len(self.messages) + 1:06d}"
        message = {"ts": ts, "thread_ts": thread_ts, "text": body.get("text", "")}
        self.messages.append(message)
        return 200, {"ok": True, "channel": CHANNEL_ID, "ts": ts, "message": message}
