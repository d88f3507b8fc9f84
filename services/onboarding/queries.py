"""Read handlers over onboarding's own read models."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.contracts.errors import Forbidden, NotFound
from libs.contracts.onboarding import GetMember, ListInvitations, ModerationQueue
from libs.kit.rpc import Context
from libs.kit.service import Service
from services.onboarding.projections import INVITATIONS, MEMBERS


def _public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_") and k not in ("consent", "resubmitted", "decision", "privileges")}


def register_queries(svc: Service) -> None:
    @svc.query(GetMember)
    async def get_member(q: GetMember, ctx: Context) -> dict:
        if q.member_id != ctx.actor.id and not ctx.actor.is_moderator:
            raise Forbidden("not_your_profile")
        await svc.wait_applied(ctx.after_seq)
        doc = await svc.store.get(MEMBERS, q.member_id)
        if doc is None or doc["status"] == "erased":
            raise NotFound("member_not_found")
        return _public(doc)

    @svc.query(ModerationQueue)
    async def moderation_queue(q: ModerationQueue, ctx: Context) -> dict:
        if not ctx.actor.is_moderator:
            raise Forbidden("moderator_only")
        await svc.wait_applied(ctx.after_seq)
        docs = await svc.store.find(MEMBERS, {"status": "pending_review"}, sort=[("queued_at", 1)], limit=q.limit)
        total = await svc.store.count(MEMBERS, {"status": "pending_review"})
        return {"items": [_public(d) for d in docs], "total": total}

    @svc.query(ListInvitations)
    async def list_invitations(q: ListInvitations, ctx: Context) -> dict:
        if not ctx.actor.is_moderator:
            raise Forbidden("moderator_only")
        await svc.wait_applied(ctx.after_seq)
        now = datetime.now(UTC).isoformat()
        items = []
        for d in await svc.store.find(INVITATIONS, sort=[("issued_at", -1)], limit=1000):
            active = not d["revoked"] and d["uses"] < d["max_uses"] and d["expires_at"] > now
            if active or q.include_inactive:
                items.append({**_public(d), "active": active})
        return {"items": items}
