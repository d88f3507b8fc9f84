"""Read handlers over onboarding's own read models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

from libs.contracts.base import Contract
from libs.contracts.errors import Forbidden, Invalid, NotFound
from libs.contracts.onboarding import (
    CheckInvitation,
    ColleagueCard,
    ColleaguePage,
    DecisionHistory,
    DecisionList,
    DecisionRecord,
    FindColleagues,
    GetColleague,
    GetMember,
    InvitationList,
    InvitationState,
    InvitationView,
    ListInvitations,
    ListMembers,
    MemberPage,
    MemberSummary,
    MemberView,
    ModerationQueue,
    Queue,
    Status,
)
from libs.kit.docstore.port import Sort
from libs.kit.docstore.search import check_cursor, count_words, find_words_page, words
from libs.kit.rpc import Context
from libs.kit.service import Service
from services.onboarding import domain
from services.onboarding.projections import DECISIONS, DIRECTORY, INVITATIONS, MEMBERS

MEMBER_FIELDS = frozenset(MemberView.model_fields)
INVITATION_FIELDS = frozenset(InvitationView.model_fields)
#: the directory in the order people look names up in; the member list in the order people joined
BY_NAME: Sort = [("sort_name", 1)]
BY_REGISTRATION: Sort = [("registered_at", 1)]
LISTED_STATUSES = [s for s in get_args(Status) if s != "erased"]


def member_view(doc: dict) -> MemberView:
    return MemberView.model_validate({k: v for k, v in doc.items() if k in MEMBER_FIELDS})


def _of(model: type[Contract], doc: dict):
    """A reply from a read-model document: its fields and none of the document's bookkeeping."""
    return model.model_validate({k: v for k, v in doc.items() if k in model.model_fields})


def _checked_cursor(collection: str, sort: Sort, cursor: str | None) -> None:
    """A cursor not minted for this list is the client's mistake (422), not the service's (5xx)."""
    try:
        check_cursor(collection, sort, cursor)
    except ValueError:
        raise Invalid("invalid_cursor") from None


def _query_words(text: str | None) -> list[str] | None:
    """The words a search asks for ([]: no search, everyone). None when it asks for no word at all,
    only punctuation (``%``, ``*``, quotes): that is no wildcard, and nothing matches it."""
    if text is None or not text.strip():
        return []
    return words(text) or None


def _members_only(ctx: Context) -> None:
    """The directory is the Main group's: a guest, still in Introduction, sees no one in it."""
    if not ctx.actor.has("member"):
        raise Forbidden("members_only")


def register_queries(svc: Service) -> None:
    @svc.query(GetMember, reads=["members"])
    async def get_member(q: GetMember, ctx: Context) -> MemberView:
        if q.member_id != ctx.actor.id and not ctx.actor.is_moderator:
            raise Forbidden("not_your_profile")
        doc = await svc.store.get(MEMBERS, q.member_id)
        if doc is None or doc["status"] == "erased":
            raise NotFound("member_not_found")
        return member_view(doc)

    @svc.query(ModerationQueue, reads=["members"])
    async def moderation_queue(q: ModerationQueue, ctx: Context) -> Queue:
        if not ctx.actor.is_moderator:
            raise Forbidden("moderator_only")
        docs = await svc.store.find(MEMBERS, {"status": "pending_review"}, sort=[("queued_at", 1)], limit=q.limit)
        total = await svc.store.count(MEMBERS, {"status": "pending_review"})
        return Queue(items=tuple(member_view(d) for d in docs), total=total)

    @svc.query(FindColleagues, reads=["members"])
    async def find_colleagues(q: FindColleagues, ctx: Context) -> ColleaguePage:
        _members_only(ctx)
        _checked_cursor(DIRECTORY, BY_NAME, q.cursor)
        query = _query_words(q.q)
        if query is None:
            return ColleaguePage(items=(), next_cursor=None)
        page = await find_words_page(svc.store, DIRECTORY, "search", query, id_field="member_id",
                                     sort=BY_NAME, limit=q.limit, after=q.cursor)
        return ColleaguePage(items=tuple(_of(ColleagueCard, d) for d in page.items), next_cursor=page.next_cursor)

    @svc.query(GetColleague, reads=["members"])
    async def get_colleague(q: GetColleague, ctx: Context) -> ColleagueCard:
        _members_only(ctx)
        doc = await svc.store.get(DIRECTORY, q.member_id)
        if doc is None:
            raise NotFound("colleague_not_found")
        return _of(ColleagueCard, doc)

    @svc.query(DecisionHistory, reads=["members", "decisions"])
    async def decision_history(q: DecisionHistory, ctx: Context) -> DecisionList:
        if not ctx.actor.is_moderator:
            raise Forbidden("moderator_only")
        member = await svc.store.get(MEMBERS, q.member_id)
        if member is None or member["status"] == "erased":
            raise NotFound("member_not_found")
        docs = await svc.store.find(DECISIONS, {"member_id": q.member_id}, sort=[("seq", 1)])
        names: dict[str, str | None] = {}
        for moderator in {d["decided_by"] for d in docs}:
            # looked up now, not copied when decided: a moderator erased since names nobody
            found = await svc.store.get(MEMBERS, moderator)
            names[moderator] = (found.get("profile") or {}).get("full_name") if found else None
        return DecisionList(items=tuple(
            DecisionRecord(decision=d["decision"], decided_by=d["decided_by"], decided_by_name=names[d["decided_by"]],
                           message=d["message"], at=d["at"])
            for d in docs))

    @svc.query(ListMembers, reads=["members"])
    async def list_members(q: ListMembers, ctx: Context) -> MemberPage:
        if not ctx.actor.is_moderator:
            raise Forbidden("moderator_only")
        _checked_cursor(MEMBERS, BY_REGISTRATION, q.cursor)
        query = _query_words(q.q)
        if q.status == "erased" or query is None:  # an erased member is no one to list
            return MemberPage(items=(), next_cursor=None, total=0)
        where = {"status": q.status} if q.status else {"status": {"$in": LISTED_STATUSES}}
        page = await find_words_page(svc.store, MEMBERS, "name_words", query, id_field="member_id", where=where,
                                     sort=BY_REGISTRATION, limit=q.limit, after=q.cursor)
        total = await count_words(svc.store, MEMBERS, "name_words", query, where)
        return MemberPage(
            items=tuple(MemberSummary(member_id=d["member_id"], full_name=d["profile"].get("full_name"),
                                      status=d["status"], roles=d["roles"]) for d in page.items),
            next_cursor=page.next_cursor, total=total)

    @svc.query(CheckInvitation)
    async def check_invitation(q: CheckInvitation, ctx: Context) -> InvitationState:
        # from the log, as registration decides: the answer never lags behind a revocation
        state, _ = await svc.load(domain.INVITATION, q.token)
        why = domain.unusable(state, datetime.now(UTC))
        return InvitationState.model_validate(
            {"usable": why is None, "reason": why, "expires_at": state.expires_at if why is None else None})

    @svc.query(ListInvitations, reads=["invitations"])
    async def list_invitations(q: ListInvitations, ctx: Context) -> InvitationList:
        if not ctx.actor.is_moderator:
            raise Forbidden("moderator_only")
        now = datetime.now(UTC).isoformat()
        items = []
        for d in await svc.store.find(INVITATIONS, sort=[("issued_at", -1)], limit=1000):
            active = not d["revoked"] and d["uses"] < d["max_uses"] and d["expires_at"] > now
            if active or q.include_inactive:
                items.append(InvitationView.model_validate(
                    {**{k: v for k, v in d.items() if k in INVITATION_FIELDS}, "active": active}))
        return InvitationList(items=tuple(items))
