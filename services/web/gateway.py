"""The web client's only way to the platform: the gateway's public HTTP API, as any program uses it.

It carries the person's access token, renews it with the refresh token when the gateway says it is
no longer good (the page never notices), sends back the newest consistency token (so a page after a
form shows that form's effect), and vouches for the client's address with the shared secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from services.web.session import Session

CONSISTENCY = "X-Consistency-Token"
#: how long a command waits while the same Idempotency-Key is still being carried out (409)
IN_PROGRESS_WAIT_S = 10.0
#: a refresh token spent by one request serves its twins (pages loaded at once) for this long
RENEWED_FOR_S = 60.0


#: a 401 about the session's token (not, say, a wrong password typed into the sign-in form)
TOKEN_REFUSED = frozenset({"invalid_token", "login_required", "refresh_token_used"})


class Expired(Exception):
    """The session cannot be renewed: the person signs in again."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    #: the answer as sent, for what is not JSON (the map of working groups is an SVG picture)
    content: bytes = b""
    content_type: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def title(self) -> str:
        return self.body.get("title", "") if isinstance(self.body, dict) else ""

    def field_errors(self) -> dict[str, str]:
        """field -> the gateway's message about it (its last path element: ``profile.phone`` -> ``phone``)."""
        out: dict[str, str] = {}
        if isinstance(self.body, dict):
            for err in self.body.get("errors") or ():
                name = str(err.get("field", "")).split(".")[-1]
                out.setdefault(name, err.get("message", ""))
        return out


class Gateway:
    def __init__(self, http: httpx.AsyncClient, forwarded_secret: str, streams: httpx.AsyncClient | None = None):
        self._http = http
        #: the live streams' own client: a stream holds its connection for minutes, never one a page needs
        self._streams = streams or http
        self._secret = forwarded_secret
        self._renewing: dict[str, asyncio.Lock] = {}
        self._renewed: dict[str, tuple[float, dict]] = {}

    def _headers(self, session: Session, lang: str, address: str | None) -> dict[str, str]:
        headers = {"Accept-Language": lang}
        if session.access:
            headers["Authorization"] = f"Bearer {session.access}"
        if session.seen:
            headers[CONSISTENCY] = session.seen
        if address:
            headers["X-Forwarded-For"] = address
            headers["X-Hrm-Forwarded-Secret"] = self._secret
        return headers

    async def call(self, method: str, path: str, session: Session, lang: str, address: str | None, *,
                   json: Any = None, params: dict | None = None) -> Answer:
        """One request of the public API. A command gets an Idempotency-Key, so a retry after a lost
        answer is never carried out twice."""
        key = str(uuid.uuid4()) if method != "GET" else None
        sent_with = session.access
        answer = await self._send(method, path, session, lang, address, json, params, key)
        if answer.status == 401 and answer.code == "invalid_token" and session.refresh:
            # a request of the same page sent at once may have renewed the pair meanwhile: then it is used
            if session.access == sent_with:
                await self._renew(session, lang, address)
            answer = await self._send(method, path, session, lang, address, json, params, key)
        if answer.status == 401 and session.access and answer.code in TOKEN_REFUSED:
            raise Expired()
        return answer

    async def _send(self, method, path, session, lang, address, json, params, key) -> Answer:
        headers = self._headers(session, lang, address)
        if key:
            headers["Idempotency-Key"] = key
        deadline = time.monotonic() + IN_PROGRESS_WAIT_S
        while True:
            response = await self._http.request(method, path, json=json, params=params, headers=headers)
            if response.status_code == 409 and _code(response) == "request_in_progress" \
                    and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                continue
            break
        seen = response.headers.get(CONSISTENCY)
        if seen and seen.isdigit() and (not session.seen or int(seen) > int(session.seen)):
            session.seen = seen
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            body = response.json() if response.content and not kind.startswith("image/") else None
        except ValueError:
            body = None
        return Answer(response.status_code, body, response.content, kind)

    async def _renew(self, session: Session, lang: str, address: str | None) -> None:
        """Trade the refresh token for a new pair. A refresh token works once, and a browser may load
        two pages with the same cookie at once: the first renews, the twins wait and get its answer."""
        spent = hashlib.sha256((session.refresh or "").encode()).hexdigest()
        lock = self._renewing.setdefault(spent, asyncio.Lock())
        async with lock:
            now = time.monotonic()
            self._renewed = {k: v for k, v in self._renewed.items() if now - v[0] < RENEWED_FOR_S}
            tokens = self._renewed.get(spent, (0.0, None))[1]
            if tokens is None:
                response = await self._http.post("/v1/auth/refresh", json={"refresh_token": session.refresh},
                                                 headers=self._headers(Session(), lang, address))
                if response.status_code != 200:
                    self._renewing.pop(spent, None)
                    raise Expired()
                tokens = response.json()
                self._renewed[spent] = (now, tokens)
        self._renewing.pop(spent, None)
        session.access, session.refresh = tokens["access_token"], tokens["refresh_token"]


    async def open_stream(self, session: Session, lang: str, address: str | None, *, after: str | None = None,
                          last_event_id: str | None = None) -> httpx.Response:
        """The member's live stream (GET /v1/stream) opened: its head read, its body still to come. A page
        open longer than an access token lives reconnects with a renewed pair (the caller sets the cookie).
        Raises Expired when the session cannot be renewed."""
        params = {"after": after} if after is not None and last_event_id is None else None
        for attempt in (1, 2):
            headers = {**self._headers(session, lang, address), "Accept": "text/event-stream"}
            if last_event_id is not None:
                headers["Last-Event-ID"] = last_event_id
            sent_with = session.access
            request = self._streams.build_request("GET", "/v1/stream", params=params, headers=headers)
            response = await self._streams.send(request, stream=True)
            if response.status_code != 401:
                return response
            await response.aread()
            await response.aclose()
            code = _code(response)
            if attempt == 1 and code == "invalid_token" and session.refresh:
                if session.access == sent_with:
                    await self._renew(session, lang, address)
                continue
            if session.access and code in TOKEN_REFUSED:
                raise Expired()
            return response
        return response  # pragma: no cover — the loop returns


async def forget(gateway: Gateway, session: Session, lang: str, address: str | None) -> None:
    """Signing out spends the refresh token (the new pair it buys is dropped), so a copy of the cookie
    cannot renew itself afterwards; its access token lives out its short life."""
    if session.refresh:
        await gateway._http.post("/v1/auth/refresh", json={"refresh_token": session.refresh},
                                 headers=gateway._headers(Session(), lang, address))


def _code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None
