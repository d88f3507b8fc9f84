"""One socket write per answer at the edges (the gateway, the web client).

uvicorn writes an answer's head on ``http.response.start`` and its body on ``http.response.body``: two
system calls, two TCP segments and two wake-ups of the client for every answer (h11 and httptools alike).
Sampled under the closed loop of profile saves, those writes were 11 % of the gateway's time. Starlette
sends both in one turn of the event loop, so holding a write until the loop's next turn joins them;
a live stream's event leaves on the turn after it was sent (nothing waits for more), a large body leaves at once past
``FLUSH_AT_BYTES`` (the transport's own flow control then applies as before), and closing the
connection writes what is held first. docs/adr/0037.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

#: held bytes past which a write goes out at once: uvicorn's own high-water mark, so that a body sent
#: in a tight loop of chunks meets the transport's back-pressure as it did before
FLUSH_AT_BYTES = 65536


class JoinedWrites(asyncio.Transport):
    """A transport that sends what was written during one turn of the loop in one write."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if len(data) >= FLUSH_AT_BYTES:  # a large body goes as it is, after what is held: not copied to join it
            self.flush()
            self._transport.write(data)
            return
        self._held.append(bytes(data))
        self._held_bytes += len(data)
        if self._held_bytes >= FLUSH_AT_BYTES:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._on_next_turn)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def _on_next_turn(self) -> None:
        self._scheduled = False
        self.flush()

    def flush(self) -> None:
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held.clear()
        self._held_bytes = 0
        self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held.clear()
        self._held_bytes = 0
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._held_bytes

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()


class OneWritePerAnswer(H11Protocol):
    """uvicorn's HTTP/1.1 protocol (h11, the one it picks here) over ``JoinedWrites``: pass it as
    ``uvicorn.run(..., http=OneWritePerAnswer)``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(JoinedWrites(transport, self.loop))
