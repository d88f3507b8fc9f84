"""The faster reading of headers (libs/kit/natsheaders.py) answers what nats-py's own does, for any
block of bytes: every ASCII and Latin-1 byte in a name and at its edges, random blocks built of the
bytes that decide the rules (colons, CR, LF, every kind of whitespace, non-ASCII, invalid UTF-8), and
real messages through a real nats-server, where a status reply (no responders) is still one."""

from __future__ import annotations

import nats
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nats.aio.client import Client

from libs.kit.natsheaders import NATS_PY_PARSE, parse_header_lines, read_headers_faster

theirs = NATS_PY_PARSE.__func__


def test_nats_py_reads_headers_through_the_method_we_replace():
    # a nats-py that stopped calling it would make the replacement a silent no-op
    assert isinstance(NATS_PY_PARSE, staticmethod)
    assert "_parse_header_lines" in Client._process_headers.__code__.co_names


@pytest.mark.parametrize("byte", range(256))
def test_every_byte_in_a_name_and_a_value_reads_the_same(byte):
    b = bytes([byte])
    for block in (
        b"A" + b + b"B: v\r\n",  # inside a name
        b + b"Name: v\r\n",  # before it
        b"Name" + b + b": v\r\n",  # after it
        b"Name: v" + b + b"w\r\n",  # inside a value
        b"Name:" + b + b"\r\nOther: x\r\n",  # a value of it alone
        b + b"\r\n" + b + b":" + b + b"\r\n",  # a line of it, a name and a value of it
    ):
        assert parse_header_lines(block) == theirs(block), block


PIECES = st.sampled_from([
    b":", b"::", b"\r\n", b"\r", b"\n", b" ", b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1f", b"\x85", b"\xa0",
    b"\x00", b"Nats-Msg-Id", b"Hr-Event-Type", b"traceparent", b"a", b"Z", b"9", b"-", b"\xd0\xb8",  # и
    b"\xff", b"\xc3", b"\xe2\x80\xa8",  # an invalid byte, a cut sequence, U+2028
])


@given(st.lists(PIECES, max_size=60))
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_block_reads_the_same(pieces):
    block = b"".join(pieces)
    assert parse_header_lines(block) == theirs(block)


@given(st.binary(max_size=300))
@settings(max_examples=2000, deadline=None)
def test_any_bytes_read_the_same(block):
    assert parse_header_lines(block) == theirs(block)


def test_a_huge_block_reads_the_same():
    block = b"".join(b"H%d: %s\r\n" % (i, b"x" * (i % 97)) for i in range(20_000)) + b"Bad Name: y\r\n" * 50
    assert parse_header_lines(block) == theirs(block)


@pytest.fixture
def faster():
    read_headers_faster()
    yield
    Client._parse_header_lines = NATS_PY_PARSE


async def test_real_messages_carry_their_headers_and_a_status_is_still_one(nats_server, faster):
    assert Client.__dict__["_parse_header_lines"].__func__ is parse_header_lines
    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.subscribe("hdr.test")
        sent = {"Nats-Msg-Id": "0f8fad5b-d9cb-469f-a165-70867728950e", "Hr-Event-Type": "ProfileCompleted",
                "Hr-Correlation-Id": "корреляция ✓", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-"
                "b7ad6b7169203331-01", "Empty": ""}
        await nc.publish("hdr.test", b"body", headers=sent)
        msg = await sub.next_msg(timeout=5)
        assert msg.headers == sent
        assert msg.data == b"body"
        # a request nobody answers is told so by a status header: still read as one
        with pytest.raises(nats.errors.NoRespondersError):
            await nc.request("hdr.nobody", b"", timeout=5)
    finally:
        await nc.close()
