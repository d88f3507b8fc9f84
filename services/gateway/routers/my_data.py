"""A member's own data (152-FZ art. 14, GDPR art. 15 and 20; docs/adr/0024): ask for it, follow which
services' parts are in, download it as one JSON document once every part is; and withdraw one's consent,
which erases the account (confirmed by typing the word the page shows).

The download is put together here, chunk by chunk of each part (one query each), so no reply on the bus
has to hold a part; it is the parts as the services answered, under their names."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from libs.contracts import onboarding as c
from libs.contracts.errors import ErrorBody
from services.gateway.deps import AuthBus, AuthCommandBus
from services.gateway.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/v1/me", tags=["my data"], responses=PROBLEM_RESPONSES)


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: the word the page asks to type: УДАЛИТЬ (or DELETE)
    confirmation: str = Field(default="", max_length=50)


@router.post("/data", response_model=c.RequestMyData.reply_model, status_code=202,
             summary="Ask for everything the platform holds about me; each service sends its part")
async def request_my_data(bus: AuthCommandBus):
    return await bus.command(c.SERVICE, c.RequestMyData())


@router.get("/data", response_model=c.GetMyData.reply_model,
            summary="My last request for my data: which services' parts are in, which are awaited")
async def my_data_state(bus: AuthBus):
    return await bus.query(c.SERVICE, c.GetMyData())


async def export_of(bus: Any) -> dict[str, Any]:
    """The whole download: every service's part under its name, once all are in."""
    state = await bus.query(c.SERVICE, c.GetMyData())
    if state["status"] != "ready":
        raise Problem(ErrorBody(kind="conflict", code="data_export_not_ready"))
    parts = {}
    for part in state["parts"]:
        texts: list[str] = []
        chunks = 1
        while len(texts) < chunks:
            got = await bus.query(c.SERVICE, c.GetMyDataPart(part=part["service"], chunk=len(texts)))
            texts.append(got["text"])
            chunks = got["chunks"]
        parts[part["service"]] = json.loads("".join(texts))
    return {"member_id": bus.member_id, "request_id": state["request_id"], "requested_at": state["requested_at"],
            "services": parts}


@router.get("/data/export.json", summary="Download my data as one JSON document (when every part is in)",
            responses={200: {"content": {"application/json": {}}}})
async def download_my_data(bus: AuthBus) -> Response:
    body = json.dumps(await export_of(bus), ensure_ascii=False, indent=2)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": 'attachment; filename="my-data.json"', "Cache-Control": "no-store"})


@router.post("/consent/withdrawal", response_model=c.WithdrawConsent.reply_model,
             summary="Withdraw my consent to the processing of my personal data: my account is erased for good")
async def withdraw_consent(body: WithdrawalIn, bus: AuthCommandBus):
    return await bus.command(c.SERVICE, c.WithdrawConsent(confirmation=body.confirmation))
