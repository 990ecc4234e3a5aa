"""A scripted model server: a local HTTP server speaking the Anthropic Messages API.

Tests and evals point the real `anthropic` SDK at it (`ANTHROPIC_BASE_URL`), so the whole SDK
path runs offline. A script is JSON:

    {"conversations": [
      {"match": "per_unit",                      # optional: a substring of the request's
       "model": "claude-haiku-4-5",              #   system text or first user message; the
       "replies": [                              #   model, when given, must be the request's
         {"error": 429, "times": 1},             # served before the next reply, `times` times
         {"text": "Reading.", "tool_use": [{"name": "read_code", "input": {"path": "a.py"}}],
          "usage": {"input_tokens": 900, "output_tokens": 40}},
         {"text": "Done."}                       # no tool_use: stop_reason end_turn
       ]}
    ]}

The server is stateless per turn: a request with k assistant messages gets the conversation's
k-th reply (errors not counted), so a retried request gets the same answer. Past the last
reply it answers `end_turn` with "(script ended)". Without `usage`, figures are estimated from
the request size (4 characters a token); a system block with `cache_control` is billed as a
cache write the first time its prefix is seen and as a cache read afterwards. The server
checks what the real API checks that matters here: required fields, and a `tool_result` for
every `tool_use` of the previous assistant message (400 otherwise). `totals` sums the usage of
every reply served; `requests` keeps every request body.

`python -m evals.model_server SCRIPT.json [--port N]` serves a script until interrupted;
`GET /_totals` answers the usage served so far and the number of requests.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ERRORS = {
    400: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


class ScriptedModelServer:
    def __init__(self, script: dict[str, Any], host: str = "127.0.0.1", port: int = 0) -> None:
        self.script = script
        self.totals = dict.fromkeys(USAGE_KEYS, 0)
        self.requests: list[dict[str, Any]] = []
        self._served: dict[tuple[int, int], int] = {}
        self._cached: set[str] = set()
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer((host, port), _handler(self))
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ScriptedModelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for one `POST /v1/messages`."""
        with self._lock:
            self.requests.append(body)
            problem = _invalid(body)
            if problem:
                return _error(400, problem)
            index = self._conversation(body)
            if index is None:
                return _error(400, "no conversation of the script matches this request")
            turn = sum(1 for m in body["messages"] if m.get("role") == "assistant")
            reply = self._reply(index, turn)
            if "error" in reply:
                return _error(int(reply["error"]), reply.get("message", "scripted error"))
            usage = self._usage(body, reply)
            for key in USAGE_KEYS:
                self.totals[key] += usage[key]
            return 200, _message(body["model"], reply, usage)

    def _conversation(self, body: dict[str, Any]) -> int | None:
        text = _system_text(body) + "\n" + _content_text(body["messages"][0].get("content"))
        for index, conversation in enumerate(self.script.get("conversations", [])):
            model = conversation.get("model", body["model"])
            if conversation.get("match", "") in text and model == body["model"]:
                return index
        return None

    def _reply(self, conversation: int, turn: int) -> dict[str, Any]:
        entries = self.script["conversations"][conversation].get("replies", [])
        seen = 0
        for position, entry in enumerate(entries):
            if "error" in entry:
                if seen == turn and self._served.get((conversation, position), 0) < entry.get(
                    "times", 1
                ):
                    key = (conversation, position)
                    self._served[key] = self._served.get(key, 0) + 1
                    return dict(entry)
                continue
            if seen == turn:
                return dict(entry)
            seen += 1
        return {"text": "(script ended)"}

    def _usage(self, body: dict[str, Any], reply: dict[str, Any]) -> dict[str, int]:
        given = reply.get("usage")
        if given is not None:
            return {key: int(given.get(key, 0)) for key in USAGE_KEYS}
        prefix = _cached_prefix(body)
        whole = _tokens(json.dumps([body.get("tools"), body.get("system"), body["messages"]]))
        usage = dict.fromkeys(USAGE_KEYS, 0)
        cached = 0
        if prefix:
            digest = hashlib.sha256(prefix.encode()).hexdigest()
            hit = digest in self._cached
            self._cached.add(digest)
            cached = _tokens(prefix)
            usage["cache_read_input_tokens" if hit else "cache_creation_input_tokens"] = cached
        usage["input_tokens"] = max(1, whole - cached)
        usage["output_tokens"] = max(1, _tokens(json.dumps(_content(reply))))
        return usage


def _handler(server: ScriptedModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.split("?")[0] != "/v1/messages":
                self._send(404, {"type": "error", "error": {"type": "not_found_error"}})
                return
            length = int(self.headers.get("content-length", 0))
            try:
                body = json.loads(self.rfile.read(length))
            except json.JSONDecodeError:
                self._send(*_error(400, "the body is not JSON"))
                return
            self._send(*server.answer(body))

        def do_GET(self) -> None:
            if self.path != "/_totals":
                self._send(404, {"type": "error", "error": {"type": "not_found_error"}})
                return
            with server._lock:
                self._send(200, {"totals": server.totals, "requests": len(server.requests)})

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", f"req_{uuid.uuid4().hex[:12]}")
            if status in (429, 529):
                self.send_header("retry-after-ms", "20")
            if status in (429, 529, 500):
                self.send_header("x-should-retry", "true")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def _invalid(body: dict[str, Any]) -> str | None:
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            return f"{key}: Field required"
    messages = body["messages"]
    if not messages or messages[0].get("role") != "user":
        return "messages: the first message must use the user role"
    for earlier, later in itertools.pairwise(messages):
        if earlier.get("role") == later.get("role"):
            return "messages: roles must alternate between user and assistant"
        if earlier.get("role") != "assistant" or not isinstance(earlier.get("content"), list):
            continue
        uses = {b["id"] for b in earlier["content"] if b.get("type") == "tool_use"}
        content = later.get("content")
        answered = {
            b.get("tool_use_id")
            for b in (content if isinstance(content, list) else [])
            if b.get("type") == "tool_result"
        }
        if uses - answered:
            return f"messages: tool_use ids without a tool_result: {sorted(uses - answered)}"
    return None


def _content(reply: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.get("text"):
        blocks.append({"type": "text", "text": reply["text"]})
    for use in reply.get("tool_use", []):
        blocks.append(
            {
                "type": "tool_use",
                "id": f"toolu_{uuid.uuid4().hex[:16]}",
                "name": use["name"],
                "input": use.get("input", {}),
            }
        )
    return blocks


def _message(model: str, reply: dict[str, Any], usage: dict[str, int]) -> dict[str, Any]:
    content = _content(reply)
    uses = any(block["type"] == "tool_use" for block in content)
    return {
        "id": f"msg_{uuid.uuid4().hex[:16]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reply.get("stop_reason", "tool_use" if uses else "end_turn"),
        "stop_sequence": None,
        "usage": usage,
    }


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    kind = ERRORS.get(status, "api_error")
    return status, {"type": "error", "error": {"type": kind, "message": message}}


def _system_text(body: dict[str, Any]) -> str:
    system = body.get("system", "")
    return system if isinstance(system, str) else _content_text(system)


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def _cached_prefix(body: dict[str, Any]) -> str:
    """Tools and system blocks up to the last one marked `cache_control`, or ''."""
    system = body.get("system")
    if not isinstance(system, list):
        return ""
    marked = [i for i, block in enumerate(system) if block.get("cache_control")]
    if not marked:
        return ""
    return json.dumps([body.get("tools"), system[: marked[-1] + 1]])


def _tokens(text: str) -> int:
    return len(text) // 4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.model_server")
    parser.add_argument("script", type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with ScriptedModelServer(json.loads(args.script.read_text()), port=args.port) as server:
        print(f"ANTHROPIC_BASE_URL={server.base_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
