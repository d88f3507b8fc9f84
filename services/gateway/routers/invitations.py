from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Path, status
from pydantic import BaseModel

from libs.contracts.types import ID_PATTERN
from libs.contracts.onboarding import SERVICE, IssueInvitation, ListInvitations, RevokeInvitation
from services.gateway.deps import AuthBus, AuthCommandBus
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/invitations", tags=["invitations"], responses=PROBLEM_RESPONSES)


class InvitationOut(BaseModel):
    token: str
    url: str
    expires_at: datetime
    max_uses: int


@router.post("", response_model=InvitationOut, status_code=status.HTTP_201_CREATED,
             summary="Create an invitation link (moderator)")
async def create_invitation(body: IssueInvitation, bus: AuthCommandBus):
    return await bus.command(SERVICE, body)


@router.get("", summary="List invitations (moderator)")
async def list_invitations(bus: AuthBus, include_inactive: bool = False):
    return await bus.query(SERVICE, ListInvitations(include_inactive=include_inactive))


@router.delete("/{token}", summary="Revoke an invitation (moderator)")
async def revoke_invitation(bus: AuthCommandBus, token: str = Path(pattern=ID_PATTERN)):
    return await bus.command(SERVICE, RevokeInvitation(token=token))
