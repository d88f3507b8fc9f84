from __future__ import annotations

from fastapi import APIRouter, status

from libs.contracts.onboarding import SERVICE, RegisterMember
from services.gateway.deps import AnonCommandBus
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/registrations", tags=["onboarding"], responses=PROBLEM_RESPONSES)


@router.post("", response_model=RegisterMember.reply_model, status_code=status.HTTP_201_CREATED,
             summary="Register through an invitation, with consent to personal-data processing")
async def register(body: RegisterMember, bus: AnonCommandBus):
    return await bus.command(SERVICE, body)
