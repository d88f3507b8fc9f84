from __future__ import annotations

from fastapi import APIRouter, Path, status

from libs.contracts.onboarding import SERVICE, CheckInvitation, IssueInvitation, ListInvitations, RevokeInvitation
from libs.contracts.types import ID_PATTERN
from services.gateway.deps import AnonBus, AuthBus, AuthCommandBus
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/invitations", tags=["invitations"], responses=PROBLEM_RESPONSES)


@router.post("", response_model=IssueInvitation.reply_model, status_code=status.HTTP_201_CREATED,
             summary="Create an invitation link (moderator)")
async def create_invitation(body: IssueInvitation, bus: AuthCommandBus):
    return await bus.command(SERVICE, body)


@router.get("", response_model=ListInvitations.reply_model, summary="List invitations (moderator)")
async def list_invitations(bus: AuthBus, include_inactive: bool = False):
    return await bus.query(SERVICE, ListInvitations(include_inactive=include_inactive))


@router.get("/{token}", response_model=CheckInvitation.reply_model,
            summary="Whether an invitation link can be used now (anyone holding it), and if not, why")
async def check_invitation(bus: AnonBus, token: str = Path(pattern=ID_PATTERN)):
    return await bus.query(SERVICE, CheckInvitation(token=token))


@router.delete("/{token}", response_model=RevokeInvitation.reply_model, summary="Revoke an invitation (moderator)")
async def revoke_invitation(bus: AuthCommandBus, token: str = Path(pattern=ID_PATTERN)):
    return await bus.command(SERVICE, RevokeInvitation(token=token))
