"""No request body larger than a limit is read, at every HTTP edge (the gateway and the web client).

A declared length over it is refused before authentication and before the body reaches anything.
What the client still sends is discarded as it arrives, up to DRAIN_BYTES (so that an ordinary
client, which writes its whole body before it reads, gets to see the 413); past that the
connection is closed. Each edge says the refusal in its own words (``refuse``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException

#: refuse(scope, limit, close) -> an ASGI response saying 413 (with Connection: close when close)
Refusal = Callable[[dict, int, bool], Any]


class BodyTooLarge(HTTPException):
    """Raised inside the app when a body without a declared length goes past the limit: the app's
    handler of HTTP errors answers it 413."""

    def __init__(self) -> None:
        super().__init__(413)


class BodyLimitMiddleware:
    DRAIN_BYTES = 8 * 1024 * 1024

    def __init__(self, app, max_bytes: int, refuse: Refusal, streamed: re.Pattern[str] | None = None):
        """``streamed``: the paths (POST only) whose bodies are streamed on, never held, and limited by
        the route itself as they pass (a file upload)."""
        self.app = app
        self.max_bytes = max_bytes
        self.refuse = refuse
        self.streamed = streamed

    async def _drain(self, receive: Callable[[], Awaitable[dict]], already: int) -> bool:
        """Discard the rest of the body; False when it goes on past DRAIN_BYTES."""
        seen = already
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return False
            seen += len(message.get("body", b""))
            if seen > self.DRAIN_BYTES:
                return False
            if not message.get("more_body", False):
                return True

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.streamed is not None and scope["method"] == "POST" and self.streamed.match(scope["path"]):
            return await self.app(scope, receive, send)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None:
            try:
                length: int | None = int(declared)
            except ValueError:
                length = None
            if length is None or length > self.max_bytes:
                drained = length is not None and length <= self.DRAIN_BYTES and await self._drain(receive, 0)
                response = self.refuse(scope, self.max_bytes, not drained)
                return await response(scope, receive, send)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if message.get("more_body", False):
                        await self._drain(receive, received)
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited_receive, send)
