"""What reaches a service's request subject is answered, whatever its bytes: the endpoint takes the body as
FastStream decoded it, with no dependency injection between (issue 18), so the service's own server is what
refuses a body that is not a request."""

from __future__ import annotations

import asyncio
import json
import uuid

import nats
import pytest

from libs.contracts.base import Command, Contract
from libs.contracts.subjects import command_subject
from libs.kit.rpc import Context
from libs.kit.service import Service
from libs.kit.settings import KitSettings


class EchoReply(Contract):
    said: str
    by: str


class Echo(Command):
    reply_model = EchoReply
    text: str


@pytest.fixture
async def echo(nats_server):
    name = f"requests{uuid.uuid4().hex[:6]}"
    svc = Service(name, KitSettings(nats_url=nats_server.url, docstore_url="sqlite://:memory:"))
    heard: list[str] = []

    @svc.command(Echo)
    async def echo_the_text(cmd: Echo, ctx: Context) -> dict:
        heard.append(cmd.text)
        return {"said": cmd.text, "by": ctx.actor.id}

    await svc.start()
    nc = await nats.connect(nats_server.url)
    try:
        yield nc, command_subject(name, Echo.type_name), heard
    finally:
        await nc.close()
        await svc.stop()


async def ask(nc, subject: str, data: bytes) -> dict:
    return json.loads((await nc.request(subject, data, timeout=5)).data)


def request(body: dict) -> bytes:
    return json.dumps({"body": body, "correlation_id": str(uuid.uuid4())}, ensure_ascii=False).encode()


@pytest.mark.parametrize("data", [b"", b"{not json", b"[1, 2]", b'"text"', b"42", b"null", b"\xff\xfe",
                                  b'{"body": "not an object"}', b'{"body": {"text": "x"}}',
                                  b'{"body": {"text": "x"}, "correlation_id": "*"}'])
async def test_a_body_that_is_not_a_request_is_refused_and_runs_nothing(echo, data):
    nc, subject, heard = echo
    reply = await ask(nc, subject, data)
    assert reply["ok"] is False
    assert reply["error"]["kind"] == "validation", reply
    assert heard == []
    # the service carries on
    reply = await ask(nc, subject, request({"text": "still here"}))
    assert reply["ok"] is True and reply["result"] == {"said": "still here", "by": "anonymous"}, reply


async def test_a_request_is_answered_with_its_declared_reply_however_large_and_twice(echo):
    nc, subject, heard = echo
    text = "ё" * 200_000
    for _ in range(2):
        reply = await ask(nc, subject, request({"text": text}))
        assert reply["ok"] is True and reply["result"]["said"] == text
    assert heard == [text, text]


async def test_a_body_the_command_refuses_is_answered_with_the_field_and_runs_nothing(echo):
    nc, subject, heard = echo
    reply = await ask(nc, subject, request({"text": 1, "extra": "*"}))
    assert reply["ok"] is False and reply["error"]["code"] == "invalid_fields", reply
    assert {f["field"] for f in reply["error"]["params"]["fields"]} == {"text", "extra"}
    assert heard == []


async def test_requests_at_once_are_each_answered_with_their_own_body(echo):
    nc, subject, heard = echo
    texts = [f"запрос {i} *" for i in range(40)]
    replies = await asyncio.gather(*(ask(nc, subject, request({"text": t})) for t in texts))
    assert [r["result"]["said"] for r in replies] == texts
    assert sorted(heard) == sorted(texts)
