from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from libs.contracts.onboarding import SERVICE, DecideOnMember, ModerationQueue
from services.gateway.deps import AuthBus
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/moderation", tags=["moderation"], responses=PROBLEM_RESPONSES)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["grant", "request_changes", "decline"]
    message: str | None = Field(default=None, max_length=4000)


@router.get("/queue", summary="Complete profiles awaiting a decision, oldest first (moderator)")
async def queue(bus: AuthBus, limit: int = 100):
    return await bus.query(SERVICE, ModerationQueue(limit=max(1, min(limit, 500))))


@router.post("/{member_id}/decision", summary="Grant access, ask for changes or decline (moderator)")
async def decide(body: DecisionIn, bus: AuthBus, member_id: str = Path(min_length=1, max_length=64)):
    return await bus.command(SERVICE, DecideOnMember(member_id=member_id, decision=body.decision, message=body.message))
