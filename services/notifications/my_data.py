"""Notifications' part of a member's data (docs/adr/0024): their preferences, the address e-mails go to
(sealed here with their key, opened for them alone) and the notifications they were given."""

from __future__ import annotations

from typing import Any

from libs.kit.data_requests import answer_data_requests
from libs.kit.service import Service
from services.notifications.domain import DATA, PREFERENCES
from services.notifications.projections import CONTACTS, NOTIFICATIONS, address_aad

#: what a notification's params may say of other people: who wrote, who applied, with whom one talks (their
#: ids; a conversation's id is its two members'), and titles
#: another member may have written (a task's, a group's). The list keeps what was told and about what,
#: by the things' ids: nothing of anyone else
OTHERS = frozenset({"member_id", "sender_id", "conversation_id", "title", "group_title"})


def register_my_data(svc: Service) -> None:
    async def collect(member_id: str) -> dict[str, Any]:
        prefs, _ = await svc.load(PREFERENCES, member_id)
        contact = await svc.store.get(CONTACTS, member_id)
        email = (await svc.vault.open(member_id, contact["sealed"], address_aad(member_id))).get("email") \
            if contact else None
        notes = await svc.store.find(NOTIFICATIONS, {"member_id": member_id}, [("raised_at", 1)], 1_000_000)
        return {
            "preferences": {"channels": dict(prefs.channels), "language": prefs.language,
                            "time_zone": prefs.time_zone,
                            "quiet_hours": prefs.quiet_hours.model_dump() if prefs.quiet_hours else None},
            "email_address": email,
            "notifications": [{"kind": n["kind"],
                               "params": {k: v for k, v in n["params"].items() if k not in OTHERS},
                               "raised_at": n["raised_at"],
                               "read": n["read"], "email": n.get("email")} for n in notes],
        }

    answer_data_requests(svc, DATA, collect)
