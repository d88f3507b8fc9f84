from __future__ import annotations

from fastapi import APIRouter

from libs.contracts.onboarding import SERVICE, Login, RefreshTokens
from services.gateway.deps import AnonCommandBus
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/auth", tags=["auth"], responses=PROBLEM_RESPONSES)


@router.post(
    "/token", response_model=Login.reply_model, summary="Sign in: e-mail and password for access and refresh tokens"
)
async def sign_in(body: Login, bus: AnonCommandBus):
    return await bus.command(SERVICE, body)


@router.post(
    "/refresh", response_model=RefreshTokens.reply_model, summary="Trade a refresh token (once) for a new pair"
)
async def refresh(body: RefreshTokens, bus: AnonCommandBus):
    return await bus.command(SERVICE, body)
