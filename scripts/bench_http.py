"""A lean HTTP/1.1 keep-alive client for the open-loop load of `make bench`.

Why not httpx here: on a 2-core machine the load generator shares the CPU
with the services it measures. httpx costs ~2.5 ms of CPU per request (and
its pool scans every connection per request, which grows badly once a few
hundred connections are open); this client costs a fraction of that, so the
numbers are more about the gateway than about the generator. httpx is still
used for everything else (set-up, read-your-writes) and can drive the load
too (``--client httpx``).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass


@dataclass
class Response:
    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self):
        return json.loads(self.content)


class RawHttp:
    def __init__(self, base_url: str):
        rest = base_url.removeprefix("http://").rstrip("/")
        host, _, port = rest.partition(":")
        self.host, self.port = host, int(port or 80)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._all: set[asyncio.StreamWriter] = set()
        self.opened = 0

    async def __aenter__(self) -> RawHttp:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for w in list(self._all):
            w.close()
        self._all.clear()
        self._idle.clear()

    async def request(self, method: str, path: str, *, json_body=None, headers: dict[str, str] | None = None) -> Response:
        body = b"" if json_body is None else json.dumps(json_body, ensure_ascii=False).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        if json_body is not None:
            lines.append("Content-Type: application/json")
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        reused = bool(self._idle)
        if reused:
            reader, writer = self._idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self._all.add(writer)
            self.opened += 1
        try:
            writer.write(raw)
            status_line = await reader.readline()
            if not status_line and reused:
                # the server had closed it for being idle (its keep-alive timeout) before our request reached it:
                # nothing was read, so it is sent again on a new connection, as HTTP clients do
                writer.close()
                self._all.discard(writer)
                return await self.request(method, path, json_body=json_body, headers=headers)
            if not status_line:
                raise ConnectionError("connection closed by the server")
            status = int(status_line.split(b" ", 2)[1])
            resp_headers: dict[str, str] = {}
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                k, _, v = line.decode("latin-1").partition(":")
                resp_headers[k.strip().lower()] = v.strip()
            if "content-length" in resp_headers:
                content = await reader.readexactly(int(resp_headers["content-length"]))
            elif resp_headers.get("transfer-encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        await reader.readline()
                        break
                    parts.append(await reader.readexactly(size))
                    await reader.readline()
                content = b"".join(parts)
            else:
                content = await reader.read()
                resp_headers["connection"] = "close"
        except BaseException:
            writer.close()
            self._all.discard(writer)
            raise
        if resp_headers.get("connection", "").lower() == "close":
            writer.close()
            self._all.discard(writer)
        else:
            self._idle.append((reader, writer))
        return Response(status, resp_headers, content)

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return await self.request("GET", path, headers=headers)

    async def put(self, path: str, json=None, headers: dict[str, str] | None = None) -> Response:  # noqa: A002
        return await self.request("PUT", path, json_body=json, headers=headers)

    async def post(self, path: str, json=None, headers: dict[str, str] | None = None) -> Response:  # noqa: A002
        return await self.request("POST", path, json_body=json, headers=headers)
