"""The calendar's part of a member's data (docs/adr/0024): the events they registered for (or wait for),
the event requests they made and those they supported, and their ICS feed's generation."""

from __future__ import annotations

from typing import Any

from libs.kit.data_requests import answer_data_requests
from libs.kit.service import Service
from services.calendar.domain import DATA
from services.calendar.projections import EVENTS, FEEDS, REGISTRATIONS, REQUESTS

ALL = 1_000_000


def register_my_data(svc: Service) -> None:
    async def collect(member_id: str) -> dict[str, Any]:
        registrations = []
        for r in await svc.store.find(REGISTRATIONS, {"member_id": member_id}, [("position", 1)], ALL):
            event = await svc.store.get(EVENTS, r["event_id"]) or {}
            registrations.append({"event_id": r["event_id"], "season_id": event.get("season_id"),
                                  "title": event.get("title"), "starts_at": event.get("starts_at"),
                                  "status": r["status"]})
        requests = await svc.store.find(REQUESTS, {"member_id": member_id}, [("position", 1)], ALL)
        supported = [r for r in await svc.store.find(REQUESTS, {}, [("position", 1)], ALL)
                     if member_id in r.get("supporters", [])]
        feed = await svc.store.get(FEEDS, member_id)
        return {
            "registrations": registrations,
            "event_requests": [{"request_id": r["request_id"], "season_id": r["season_id"], "topic": r["topic"],
                                "format": r["format"], "experience": r["experience"],
                                "group_size": r["group_size"], "preferred_dates": r["preferred_dates"],
                                "outcome": r["outcome"]} for r in requests],
            "requests_supported": [{"request_id": r["request_id"], "season_id": r["season_id"]} for r in supported],
            "ics_feed_generation": feed["generation"] if feed else None,
        }

    answer_data_requests(svc, DATA, collect)
