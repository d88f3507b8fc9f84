"""A member's own data and their consent (docs/adr/0024): onboarding owns consent and the person, so the
member asks here for everything the platform holds about them, and withdraws their consent here.

The request is a fact (``MemberDataRequested``); every service that keeps a member's data answers it with
its part, onboarding among them (libs/kit/data_requests.py). The projection ``data_exports`` tracks which
parts are in: it keeps no data, only where each part sits in the log, so nothing of the member is copied
here, and once onboarding shreds their key every part reads as gone, in the log and after any rebuild.
A part is read from the log when the member asks for it."""

from __future__ import annotations

from datetime import UTC, datetime

from uuid6 import uuid7

from libs.contracts.errors import NotFound
from libs.contracts.my_data import DATA_AGGREGATE, MemberDataCollected
from libs.contracts.onboarding import (
    WITHDRAWAL_WORDS,
    ConsentGiven,
    ConsentWithdrawnReply,
    DataPartState,
    GetMyData,
    GetMyDataPart,
    MemberDataRequested,
    MyDataPart,
    MyDataState,
    RequestMyData,
    RulesAcknowledged,
    WithdrawConsent,
)
from libs.contracts.registry import CATALOG
from libs.contracts.subjects import event_subject, events_of_every_service, service_of
from libs.kit.data_requests import answer_data_requests
from libs.kit.eventstore import Recorded
from libs.kit.projection import View, plain
from libs.kit.rpc import Context, Done
from libs.kit.service import Service, meta_of
from services.onboarding import domain
from services.onboarding import handlers as h
from services.onboarding.domain import MEMBER, MEMBER_DATA
from services.onboarding.projections import DECISIONS, MEMBERS

EXPORTS = "data_exports"
#: the event each service answers with, by service: a part on a service's subject counts only as its own
PART_EVENTS = {c.service: c.member_data for c in CATALOG if c.member_data is not None}


def expected_parts() -> list[str]:
    """Every service that keeps a member's data answers: the export is ready when they all have."""
    return sorted(PART_EVENTS)


def state_of(doc: dict | None) -> MyDataState:
    if doc is None:
        return MyDataState(status="none")
    parts = [DataPartState(service=s, status="received" if _complete(doc["parts"].get(s)) else "awaited")
             for s in expected_parts()]
    ready = all(p.status == "received" for p in parts)
    return MyDataState(status="ready" if ready else "assembling", request_id=doc["request_id"],
                       requested_at=doc["requested_at"], parts=tuple(parts))


def _complete(part: dict | None) -> bool:
    return part is not None and len(part["received"]) == part["chunks"]


async def latest_export(svc: Service, member_id: str) -> dict | None:
    found = await svc.store.find(EXPORTS, {"member_id": member_id}, [("requested_at", -1)], 1)
    return found[0] if found else None


def register_my_data(svc: Service, deps: h.Deps) -> None:
    @svc.projection("data_exports", [events_of_every_service(DATA_AGGREGATE)], [EXPORTS])
    async def when_a_member_asks_or_a_part_arrives_track_the_export(rec: Recorded, view: View) -> None:
        e = rec.event
        if isinstance(e, MemberDataRequested):
            # the last request is the member's export: an earlier one goes
            for old in await view.find(EXPORTS, {"member_id": e.member_id}):
                await view.delete(EXPORTS, old["request_id"])
            await view.put(EXPORTS, e.request_id, {"request_id": e.request_id, "member_id": e.member_id,
                                                   "requested_at": rec.envelope.occurred_at.isoformat(),
                                                   "parts": {}})
            return
        service = service_of(rec.subject)
        if not isinstance(e, MemberDataCollected) or type(e) is not PART_EVENTS.get(service):
            return
        doc = await view.get(EXPORTS, e.request_id)
        if doc is None or doc["member_id"] != e.member_id:
            return  # an answer to a request since replaced by a later one
        parts = dict(doc["parts"])
        part = parts.get(service) or {"chunks": e.chunks, "received": [], "from_seq": rec.seq}
        parts[service] = {**part, "received": sorted({*part["received"], e.chunk}),
                          "from_seq": min(part["from_seq"], rec.seq)}
        await view.put(EXPORTS, e.request_id, {**plain(doc), "parts": parts})

    async def collect(member_id: str) -> dict:
        """Onboarding's part: the account, the profile and what colleagues see of it, every consent and
        rules acknowledgement with its version and time, the moderators' decisions on the member (without
        who took them)."""
        state, _ = await svc.load(MEMBER, member_id)
        doc = await svc.store.get(MEMBERS, member_id) or {}
        history = await svc.events.load(MEMBER.subject(member_id))
        decisions = await svc.store.find(DECISIONS, {"member_id": member_id}, [("seq", 1)], 10_000)
        return {
            "account": {"member_id": member_id, "email": state.email, "status": state.status,
                        "roles": list(state.roles), "registered_at": doc.get("registered_at")},
            "profile": state.profile.model_dump(mode="json"),
            "visible_to_colleagues": list(state.visible_fields),
            "consents": [{"purpose": r.event.purpose, "version": r.event.consent_version,
                          "given_at": r.envelope.occurred_at.isoformat()}
                         for r in history.events if isinstance(r.event, ConsentGiven)],
            "rules_acknowledged": [{"version": r.event.rules_version, "at": r.envelope.occurred_at.isoformat()}
                                   for r in history.events if isinstance(r.event, RulesAcknowledged)],
            "decisions": [{"decision": d["decision"], "message": d["message"], "at": d["at"]} for d in decisions],
        }

    answer_data_requests(svc, MEMBER_DATA, collect)

    @svc.command(RequestMyData)
    async def request_my_data(cmd: RequestMyData, ctx: Context) -> Done:
        me = h.member_guard(ctx)
        last = state_of(await latest_export(svc, me))
        at = datetime.now(UTC)
        request_id = str(uuid7())
        done = await svc.decide(MEMBER_DATA, me, domain.RequestData(
            me, request_id, at, last.requested_at if last.status == "assembling" else None), meta_of(ctx))
        return Done(done.seq, MyDataState(status="assembling", request_id=request_id, requested_at=at, parts=tuple(
            DataPartState(service=s, status="awaited") for s in expected_parts())))

    @svc.query(GetMyData, reads=["data_exports"])
    async def get_my_data(q: GetMyData, ctx: Context) -> MyDataState:
        return state_of(await latest_export(svc, h.member_guard(ctx)))

    @svc.query(GetMyDataPart, reads=["data_exports"])
    async def get_my_data_part(q: GetMyDataPart, ctx: Context) -> MyDataPart:
        """A chunk is read from the log, where it is sealed with the member's key: erased, it reads as gone.
        The chunks of an answer were appended as one batch, so chunk ``i`` is the ``i``-th event from where
        the part starts."""
        me = h.member_guard(ctx)
        doc = await latest_export(svc, me)
        part = doc["parts"].get(q.part) if doc else None
        if doc is None or part is None or q.part not in PART_EVENTS or not _complete(part) \
                or q.chunk >= part["chunks"]:
            raise NotFound("data_part_not_found")
        stream = await svc.events.load(event_subject(q.part, DATA_AGGREGATE, me),
                                       after=part["from_seq"] - 1 + q.chunk)
        found = next((r.event for r in stream.events if isinstance(r.event, MemberDataCollected)
                      and type(r.event) is PART_EVENTS[q.part] and r.event.request_id == doc["request_id"]
                      and r.event.chunk == q.chunk), None)
        if found is None or found.data is None:
            raise NotFound("data_part_not_found")
        return MyDataPart(request_id=doc["request_id"], service=q.part, chunk=q.chunk, chunks=found.chunks,
                          text=found.data)

    @svc.command(WithdrawConsent)
    async def withdraw_consent(cmd: WithdrawConsent, ctx: Context) -> Done:
        """The withdrawal erases the member as an admin's erasure does: the record, then the shredding."""
        me = h.member_guard(ctx)
        state, _ = await svc.load(MEMBER, me)
        confirmed = cmd.confirmation.strip().upper() in WITHDRAWAL_WORDS
        done = await svc.decide(MEMBER, me, domain.Withdraw(ctx.actor, confirmed), meta_of(ctx), attempts=50)
        await h.finish_erasure(deps, me, state.email)
        return Done(done.seq, ConsentWithdrawnReply(member_id=me))
