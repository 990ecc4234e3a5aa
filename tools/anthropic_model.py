"""The `Model` port over the Anthropic Messages API, through the official `anthropic` SDK.

The SDK retries 429 (rate limited), 529 (overloaded) and connection errors itself, honouring
`retry-after`; what still fails after `max_retries` becomes a `ModelError`.
"""

from __future__ import annotations

from typing import Any

import anthropic

from agent.domain import ModelReply, ModelUsage
from agent.errors import ModelError


class AnthropicModel:
    def __init__(
        self, api_key: str, base_url: str | None, max_retries: int, timeout: float
    ) -> None:
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
        )

    def create(
        self,
        *,
        model: str,
        system: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        max_tokens: int,
    ) -> ModelReply:
        try:
            message = self._client.messages.create(
                model=model,
                system=system,  # type: ignore[arg-type]
                messages=messages,  # type: ignore[arg-type]
                tools=tools,  # type: ignore[arg-type]
                max_tokens=max_tokens,
            )
        except anthropic.APIStatusError as error:
            raise ModelError(f"model API answered {error.status_code}: {error.message}") from None
        except anthropic.APIConnectionError as error:
            raise ModelError(f"model API unreachable: {error}") from None
        usage = message.usage
        return ModelReply(
            model=message.model,
            content=[block.model_dump(mode="json", exclude_none=True) for block in message.content],
            stop_reason=message.stop_reason,
            usage=ModelUsage(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
                cache_read_input_tokens=usage.cache_read_input_tokens or 0,
            ),
        )
