"""A bound on the time a client takes to send a request's line and headers.

uvicorn bounds the idle time between requests (`timeout_keep_alive`) and the size of the
headers, not the time they take: a client that sends them a byte at a time holds its
connection forever, and enough of them hold every connection the server can take. The protocol
made here starts a timer when a connection opens and when the first byte of each later request
arrives; the headers must be complete before it fires, else the answer is 408 and the connection
closes. The body has its own bound (`body_read_timeout`, in the app).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\n"
    b"connection: close\r\n\r\n%s"
)


def header_deadline_protocol(seconds: float, on_timeout: Callable[[], None]) -> type[Any]:
    """uvicorn's own HTTP protocol (httptools, else h11) with a header deadline of `seconds`;
    `on_timeout` is called for each request refused (to count it)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    message = f"request headers not received within {seconds:g} s".encode()
    answer = TIMEOUT_ANSWER % (len(message), message)

    base: Any = AutoHTTPProtocol

    class HeaderDeadlineProtocol(base):
        _header_timer: asyncio.TimerHandle | None = None
        _request_seen: object = None

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._header_timer is None and self._between_requests():
                self._arm()
            super().data_received(data)
            if self.cycle is not None and self.cycle is not self._request_seen:
                self._request_seen = self.cycle  # its headers are complete
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _between_requests(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(seconds, self._expired)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _expired(self) -> None:
            self._header_timer = None
            if self.transport.is_closing() or not self._between_requests():
                return
            on_timeout()
            self.transport.write(answer)
            self.transport.close()

    return HeaderDeadlineProtocol
