from __future__ import annotations

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict

from libs.contracts.onboarding import SERVICE, DecideOnMember, Decision, DecisionHistory, ModerationQueue
from libs.contracts.types import ID_PATTERN, Message
from services.gateway.deps import AuthBus, AuthCommandBus
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/moderation", tags=["moderation"], responses=PROBLEM_RESPONSES)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Decision
    message: Message | None = None


@router.get(
    "/queue",
    response_model=ModerationQueue.reply_model,
    summary="Complete profiles awaiting a decision, oldest first (moderator)",
)
async def queue(bus: AuthBus, limit: int = 100):
    return await bus.query(SERVICE, ModerationQueue(limit=max(1, min(limit, 500))))


@router.post(
    "/{member_id}/decision",
    response_model=DecideOnMember.reply_model,
    summary="Grant access, ask for changes, decline, or revoke a membership (moderator; never one's own)",
)
async def decide(body: DecisionIn, bus: AuthCommandBus, member_id: str = Path(pattern=ID_PATTERN)):
    return await bus.command(SERVICE, DecideOnMember(member_id=member_id, decision=body.decision, message=body.message))


@router.get(
    "/{member_id}/history",
    response_model=DecisionHistory.reply_model,
    summary="Every decision taken on a member, oldest first, with the moderator's name (moderator)",
)
async def history(bus: AuthBus, member_id: str = Path(pattern=ID_PATTERN)):
    return await bus.query(SERVICE, DecisionHistory(member_id=member_id))
