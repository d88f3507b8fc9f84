"""The edges write each answer in one go (libs/kit/http_writes.py, docs/adr/0037), and lose nothing by it.

A real uvicorn server on a free port, a raw socket as the client; the writes are counted on the
server's own socket transport, under the protocol that joins them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from libs.kit.http_writes import FLUSH_AT_BYTES, OneWritePerAnswer
from libs.kit.natsserver import free_port

BIG = b"x" * (FLUSH_AT_BYTES * 16 + 17)


class Stream:
    """A live stream the test drives: its first event leaves, and it waits until told to go on."""

    def __init__(self) -> None:
        self.go_on = asyncio.Event()

    async def events(self) -> AsyncIterator[bytes]:
        yield b"data: first\n\n"
        await self.go_on.wait()
        yield b"data: second\n\n"


def make_app(stream: Stream) -> Starlette:
    async def profile(request: Request) -> Response:
        body = await request.body()
        return JSONResponse({"ok": True, "bytes": len(body), "имя": "Анна"}, headers={"X-Test": "1"})

    async def big(_: Request) -> Response:
        return Response(BIG, media_type="application/octet-stream")

    async def live(_: Request) -> Response:
        return StreamingResponse(stream.events(), media_type="text/event-stream")

    async def chunks(_: Request) -> Response:
        async def gen() -> AsyncIterator[bytes]:
            for _ in range(200):  # a tight loop of chunks that never waits on anything
                yield b"y" * 4096
        return StreamingResponse(gen(), media_type="application/octet-stream")

    return Starlette(routes=[Route("/p", profile, methods=["GET", "PUT", "HEAD"]), Route("/big", big),
                             Route("/live", live), Route("/chunks", chunks)])


def counted(protocol: type[H11Protocol], writes: list[bytes]) -> type[H11Protocol]:
    class Counted(protocol):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            real = transport.write

            def write(data: bytes) -> None:
                if data:
                    writes.append(bytes(data))
                real(data)

            transport.write = write  # type: ignore[method-assign]
            super().connection_made(transport)

    return Counted


class Served:
    def __init__(self, protocol: type[H11Protocol]) -> None:
        self.writes: list[bytes] = []
        self.stream = Stream()
        self.port = free_port()
        config = uvicorn.Config(make_app(self.stream), host="127.0.0.1", port=self.port, lifespan="off",
                                log_level="warning", log_config=None, http=counted(protocol, self.writes))
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> Served:
        self.task = asyncio.create_task(self.server.serve())
        for _ in range(1000):  # uvicorn's server says it started by a flag, not an event
            if self.server.started:
                return self
            await asyncio.sleep(0.01)
        raise TimeoutError("uvicorn did not start")

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 10)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


async def read_answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    return head, await asyncio.wait_for(reader.readexactly(length), 5)


def request(method: str, path: str, body: bytes = b"", close: bool = False) -> bytes:
    extra = b"Connection: close\r\n" if close else b""
    return (f"{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n".encode() + extra + b"\r\n"
            + body)


async def answers_on_one_connection(protocol: type[H11Protocol]) -> tuple[list[tuple[bytes, bytes]], list[bytes]]:
    async with Served(protocol) as s:
        reader, writer = await s.connect()
        out = []
        for i in range(3):
            writer.write(request("PUT", "/p", b'{"n": %d}' % i))
            out.append(await read_answer(reader))
        writer.close()
        return out, s.writes


def without_date(head: bytes) -> bytes:
    return b"\r\n".join(line for line in head.split(b"\r\n") if not line.lower().startswith(b"date:"))


async def test_each_answer_leaves_in_one_write_and_reads_the_same() -> None:
    joined, joined_writes = await answers_on_one_connection(OneWritePerAnswer)
    plain, plain_writes = await answers_on_one_connection(H11Protocol)
    # what the client reads is byte for byte what uvicorn alone sends (but the date)
    assert [(without_date(h), b) for h, b in joined] == [(without_date(h), b) for h, b in plain]
    assert joined[0][1] == b'{"ok":true,"bytes":8,"\xd0\xb8\xd0\xbc\xd1\x8f":"\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0"}'
    assert len(plain_writes) == 6  # uvicorn alone: the head, then the body, for each of the three
    assert len(joined_writes) == 3
    assert all(w.startswith(b"HTTP/1.1 200 OK") and w.endswith(b"}") for w in joined_writes)


async def test_a_closing_answer_arrives_whole_before_the_connection_ends() -> None:
    async with Served(OneWritePerAnswer) as s:
        for method in ("GET", "HEAD"):
            reader, writer = await s.connect()
            writer.write(request(method, "/p", close=True))
            data = await asyncio.wait_for(reader.read(), 5)  # until the server closes
            writer.close()
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK") and b"connection: close" in head.lower()
            assert body == (b"" if method == "HEAD" else b'{"ok":true,"bytes":0,"\xd0\xb8\xd0\xbc\xd1\x8f":"\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0"}')
        assert len(s.writes) == 2


async def test_a_live_streams_event_is_not_held_back() -> None:
    """The first event reaches the browser while the stream is still open and waiting."""
    async with Served(OneWritePerAnswer) as s:
        reader, writer = await s.connect()
        writer.write(request("GET", "/live"))
        seen = b""
        while b"data: first" not in seen:
            chunk = await asyncio.wait_for(reader.read(65536), 5)  # a held write would time out here
            assert chunk, "the stream ended"
            seen += chunk
        assert b"second" not in seen
        s.stream.go_on.set()
        while b"data: second" not in seen:
            seen += await asyncio.wait_for(reader.read(65536), 5)
        writer.close()


@pytest.mark.parametrize("path, expected", [("/big", BIG), ("/chunks", b"y" * 4096 * 200)])
async def test_a_large_body_arrives_intact_and_is_not_held_whole(path: str, expected: bytes) -> None:
    async with Served(OneWritePerAnswer) as s:
        reader, writer = await s.connect()
        writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        if b"chunked" in head.lower():
            body = dechunk(body)
        assert body == expected
        if path == "/big":  # one large body: written as it came, not copied into a joined write
            assert BIG in s.writes
        else:  # many small chunks: they left as they passed the bound, not held to the end
            assert max(len(w) for w in s.writes) < FLUSH_AT_BYTES + 4096 + 16
            assert len(s.writes) >= len(expected) // (FLUSH_AT_BYTES + 4096 + 16)


def dechunk(body: bytes) -> bytes:
    out = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return out
        out, body = out + body[:size], body[size + 2:]


async def test_a_client_gone_mid_answer_leaves_the_server_serving() -> None:
    async with Served(OneWritePerAnswer) as s:
        reader, writer = await s.connect()
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.write(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        await asyncio.wait_for(reader.read(1024), 5)
        writer.close()  # a reset, with most of the body still to send
        await asyncio.sleep(0.1)
        reader, writer = await s.connect()
        writer.write(request("PUT", "/p", b"{}"))
        head, body = await read_answer(reader)
        writer.close()
        assert head.startswith(b"HTTP/1.1 200 OK") and b'"bytes":2' in body
