"""The shared half of answering a member's request for their data (libs/kit/data_parts.py): a part is cut
into chunks that each fit one message and join back into the same JSON, and each service answers a request
once — a redelivered request appends nothing."""

from __future__ import annotations

import json
import uuid

from libs.contracts.my_data import CHUNK_BYTES, DATA_AGGREGATE, MAX_CHUNKS
from libs.contracts.registry import CATALOG
from libs.kit.data_parts import AnswerRequest, chunks_of, part_decider
from libs.kit.decider import given
from libs.kit.eventstore import Meta
from libs.kit.memory_eventstore import MemoryEventStore, MemoryVault
from services.registry import domain_services


def test_chunks_join_into_the_same_json_and_each_fits_its_bound():
    data = {"chat_messages": [{"text": "Привет, коллеги! 👋 " * 40, "n": i} for i in range(200)]}
    pieces = chunks_of(data, limit=1000)
    assert len(pieces) > 10
    assert all(len(p.encode()) <= 1000 for p in pieces)
    assert json.loads("".join(pieces)) == data
    assert chunks_of({}) == ["{}"]
    assert all(len(p.encode()) <= CHUNK_BYTES for p in chunks_of(data))


def test_a_service_answers_a_request_once_in_chunks_in_order():
    event = next(c.member_data for c in CATALOG if c.service == "roles")
    parts = part_decider("roles", event)
    assert parts.subject("m1") == f"hr.evt.roles.{DATA_AGGREGATE}.m1"
    big = {"roles": [{"note": "ж" * 1000, "i": i} for i in range(100)]}
    answered = given(parts).when(AnswerRequest("r1", "m1", big)).events
    assert answered and [e.chunk for e in answered] == list(range(len(answered)))
    assert {e.chunks for e in answered} == {len(answered)} and {e.request_id for e in answered} == {"r1"}
    assert json.loads("".join(e.data for e in answered)) == big
    # redelivered: nothing more; another request: answered again
    given(parts, *answered).when(AnswerRequest("r1", "m1", big)).then()
    assert given(parts, *answered).when(AnswerRequest("r2", "m1", {})).events[0].request_id == "r2"


def test_every_domain_service_answers_requests_for_a_members_data():
    """A service that keeps anything of a member declares the event its part is made of and registers the
    policy that answers: onboarding waits for every service the catalog names, so none may be left out."""
    for declaration in domain_services():
        contracts = declaration.contracts
        assert contracts.member_data is not None, declaration.name
        assert contracts.member_data in contracts.events and contracts.member_data.pii_fields == {"data"}
        svc = declaration.bootstrap()
        assert "data_requests" in [c.name for c in svc.consumers], declaration.name


async def test_the_worst_chunks_fit_an_event_and_a_part_too_large_says_its_size():
    """Chunks of quotes and backslashes (escaped again when sealed) and of four-byte characters still
    weigh less than an event may; a part past MAX_CHUNKS is answered with what it would have weighed."""
    event = next(c.member_data for c in CATALOG if c.service == "groups")
    parts = part_decider("groups", event)
    store = MemoryEventStore(MemoryVault())
    meta = Meta(actor="system", correlation_id=str(uuid.uuid4()))
    for i, text in enumerate(('"\\' * 20_000, "😀" * 20_000, "ж" * 40_000)):
        events = given(parts).when(AnswerRequest(f"r{i}", "m1", {"t": text})).events
        stream = await store.load(parts.subject("m1"))
        await store.append(stream, events, meta)  # TooLarge if a chunk weighed more than an event may
    huge = {"t": "x" * (CHUNK_BYTES * (MAX_CHUNKS + 1))}
    [only] = given(parts).when(AnswerRequest("big", "m1", huge)).events
    assert json.loads(only.data) == {"too_large": True, "size_bytes": len(json.dumps(huge).encode())}
