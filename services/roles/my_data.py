"""The roles' part of a member's data (docs/adr/0024): every role they hold or held, season by season."""

from __future__ import annotations

from typing import Any

from libs.kit.data_requests import answer_data_requests
from libs.kit.service import Service
from services.roles.domain import DATA
from services.roles.projections import HELD


def register_my_data(svc: Service) -> None:
    async def collect(member_id: str) -> dict[str, Any]:
        held = await svc.store.find(HELD, {"member_id": member_id}, [("taken_at", 1)], 1_000_000)
        return {"roles": [{"season_id": h["season_id"], "group_id": h["group_id"], "role": h["role"],
                           "quality": h["quality"], "taken_at": h["taken_at"]} for h in held]}

    answer_data_requests(svc, DATA, collect)
