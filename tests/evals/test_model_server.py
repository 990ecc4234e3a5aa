"""The scripted model server, spoken to by the real `anthropic` SDK through the Model adapter."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from agent.errors import ModelError
from evals.model_server import ScriptedModelServer
from tools.anthropic_model import AnthropicModel

SYSTEM = [
    {"type": "text", "text": "rules"},
    {"type": "text", "text": "repository " * 400, "cache_control": {"type": "ephemeral"}},
]
TOOLS = [{"name": "read_code", "description": "read", "input_schema": {"type": "object"}}]


def _model(server: ScriptedModelServer, retries: int = 2) -> AnthropicModel:
    return AnthropicModel("test-key", server.base_url, max_retries=retries, timeout=10)


def _ask(model: AnthropicModel, messages: list[dict[str, Any]]) -> Any:
    return model.create(
        model="claude-sonnet-4-6", system=SYSTEM, messages=messages, tools=TOOLS, max_tokens=512
    )


def test_tool_use_with_scripted_usage_goes_through_the_sdk() -> None:
    script = {
        "conversations": [
            {
                "replies": [
                    {
                        "text": "Reading.",
                        "tool_use": [{"name": "read_code", "input": {"path": "a.py"}}],
                        "usage": {"input_tokens": 900, "output_tokens": 40},
                    }
                ]
            }
        ]
    }
    with ScriptedModelServer(script) as server:
        reply = _ask(_model(server), [{"role": "user", "content": "fix it"}])
    assert reply.stop_reason == "tool_use"
    assert reply.content[0] == {"type": "text", "text": "Reading."}
    use = reply.content[1]
    assert (use["type"], use["name"], use["input"]) == ("tool_use", "read_code", {"path": "a.py"})
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (900, 40)
    assert server.totals["input_tokens"] == 900
    assert server.requests[0]["system"][1]["cache_control"] == {"type": "ephemeral"}


def test_estimated_usage_writes_the_cached_prefix_once_then_reads_it() -> None:
    script = {"conversations": [{"replies": [{"text": "a"}, {"text": "b"}]}]}
    first = [{"role": "user", "content": "fix it"}]
    with ScriptedModelServer(script) as server:
        model = _model(server)
        one = _ask(model, first)
        two = _ask(
            model,
            [
                *first,
                {"role": "assistant", "content": one.content},
                {"role": "user", "content": "go on"},
            ],
        )
    assert one.usage.cache_creation_input_tokens > 1000
    assert one.usage.cache_read_input_tokens == 0
    assert two.usage.cache_read_input_tokens == one.usage.cache_creation_input_tokens
    assert two.usage.cache_creation_input_tokens == 0
    assert [c["text"] for c in (one.content[0], two.content[0])] == ["a", "b"]
    assert server.totals["cache_read_input_tokens"] == two.usage.cache_read_input_tokens


def test_a_429_is_retried_by_the_sdk_and_billed_once() -> None:
    script = {"conversations": [{"replies": [{"error": 429, "times": 2}, {"text": "ok"}]}]}
    with ScriptedModelServer(script) as server:
        reply = _ask(_model(server, retries=2), [{"role": "user", "content": "fix it"}])
    assert reply.content == [{"type": "text", "text": "ok"}]
    assert len(server.requests) == 3
    assert server.totals["output_tokens"] == reply.usage.output_tokens


def test_overloaded_after_the_retries_is_a_model_error() -> None:
    script = {"conversations": [{"replies": [{"error": 529, "times": 5}, {"text": "late"}]}]}
    with ScriptedModelServer(script) as server, pytest.raises(ModelError, match="529"):
        _ask(_model(server, retries=1), [{"role": "user", "content": "fix it"}])
    assert len(server.requests) == 2


def test_a_tool_use_without_its_result_is_refused_like_the_real_api() -> None:
    script = {
        "conversations": [{"replies": [{"tool_use": [{"name": "read_code"}]}, {"text": "x"}]}]
    }
    with ScriptedModelServer(script) as server:
        model = _model(server)
        first = [{"role": "user", "content": "fix it"}]
        reply = _ask(model, first)
        unanswered = [
            *first,
            {"role": "assistant", "content": reply.content},
            {"role": "user", "content": "?"},
        ]
        with pytest.raises(ModelError, match=r"400.*tool_result"):
            _ask(model, unanswered)


def test_totals_are_served_for_runs_in_other_processes() -> None:
    script = {"conversations": [{"replies": [{"text": "a", "usage": {"output_tokens": 7}}]}]}
    with ScriptedModelServer(script) as server:
        _ask(_model(server), [{"role": "user", "content": "fix it"}])
        with urllib.request.urlopen(f"{server.base_url}/_totals") as response:
            served = json.loads(response.read())
    assert served["requests"] == 1
    assert served["totals"]["output_tokens"] == 7
