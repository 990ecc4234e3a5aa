"""One JSON-over-HTTP call with the manners every SaaS API wants, on httpx.

A transport error, a 5xx or a 429 is retried with exponential backoff, waiting as long as
`Retry-After` or `X-Sentry-Rate-Limit-Reset` asks (at most `max_wait` seconds). Other 4xx are
not retried: 404 is `NotFound`, the rest `AdapterError` with the service's message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from agent.errors import AdapterError, NotFound


class RestClient:
    def __init__(
        self,
        client: httpx.Client,
        service: str,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.service = service
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON answer (None when empty)."""
        return _decoded(self.send(method, path, **kwargs))

    def page(self, method: str, path: str, **kwargs: Any) -> tuple[Any, dict[str, dict[str, str]]]:
        """The decoded JSON answer and the response's `Link` header, by `rel` (each link's
        parameters as httpx parses them: `url`, and Sentry's `results` and `cursor`)."""
        response = self.send(method, path, **kwargs)
        links = {
            str(rel): {str(k): str(v) for k, v in link.items()}
            for rel, link in response.links.items()
        }
        return _decoded(response), links

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The successful response, after retries; errors raise as `request` describes."""
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TransportError as error:
                if last:
                    raise AdapterError(f"{self.service} {method} {path}: {error}") from None
                self.sleep(self.backoff * 2**attempt)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if last:
                    raise AdapterError(
                        f"{self.service} {method} {path}: {response.status_code} after "
                        f"{self.retries + 1} attempts"
                    )
                self.sleep(self._wait(response, attempt))
                continue
            if response.status_code == 404:
                raise NotFound(f"{self.service} {path}: not found")
            if response.status_code >= 400:
                raise AdapterError(
                    f"{self.service} {method} {path}: {response.status_code} {_message(response)}"
                )
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, response: httpx.Response, attempt: int) -> float:
        wait = self.backoff * 2**attempt
        retry_after = response.headers.get("Retry-After")
        reset = response.headers.get("X-Sentry-Rate-Limit-Reset")
        try:
            if retry_after is not None:
                wait = float(retry_after)
            elif reset is not None:
                wait = float(reset) - time.time()
        except ValueError:
            pass
        return min(max(wait, 0.0), self.max_wait)


def _decoded(response: httpx.Response) -> Any:
    return response.json() if response.content else None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        error = body.get("error")
        detail = body.get("detail") or (error.get("message") if isinstance(error, dict) else None)
        return str(detail or body)[:200]
    return str(body)[:200]
