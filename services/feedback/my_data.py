"""Feedback's part of a member's data (docs/adr/0024): their requests for help and their own words in
each thread (the experts' answers are the experts'), the feedback they wrote as an observer, and the
published feedback addressed to their teams with their own marks. That feedback is about them and the
issue lists it among their data; it goes without the observer's name or id, and once the observer is
erased its words are gone here as everywhere."""

from __future__ import annotations

from typing import Any

from libs.contracts import feedback as f
from libs.kit.data_requests import answer_data_requests
from libs.kit.service import Service
from services.feedback.domain import DATA
from services.feedback.projections import FEEDBACK, GAMES, HELP, MESSAGES

ALL = 1_000_000


def register_my_data(svc: Service) -> None:
    def parts_of(doc: dict) -> dict[str, Any]:
        return {p: doc.get(p) for p in f.FEEDBACK_PARTS}

    async def collect(member_id: str) -> dict[str, Any]:
        requests = await svc.store.find(HELP, {"asker_id": member_id}, [("requested_at", 1)], ALL)
        own_words = await svc.store.find(MESSAGES, {"author_id": member_id}, [("posted_at", 1)], ALL)
        teams = [(g["game_id"], gid) for g in await svc.store.find(GAMES, {}, [("game_id", 1)], ALL)
                 for gid, roster in g["teams"].items() if member_id in roster]
        to_teams = []
        for game_id, group_id in teams:
            for doc in await svc.store.find(FEEDBACK, {"game_id": game_id, "group_id": group_id},
                                            [("round_no", 1)], ALL):
                if doc["status"] == "published" and doc.get("situation") is not None:
                    mark = doc["marks"].get(member_id)
                    to_teams.append({"game_id": game_id, "group_id": group_id, "round_no": doc["round_no"],
                                     "quality": doc["quality"], "role": doc["role"], **parts_of(doc),
                                     "my_mark": mark})
        written = await svc.store.find(FEEDBACK, {"observer_id": member_id}, [("written_at", 1)], ALL)
        return {
            "help_requests": [{"request_id": r["request_id"], "title": r["title"],
                               **{p: r.get(p) for p in f.HELP_PARTS}, "status": r["status"],
                               "outcome": r["outcome"], "requested_at": r["requested_at"]} for r in requests],
            "help_messages": [{"request_id": m["request_id"], "text": m["text"], "posted_at": m["posted_at"]}
                              for m in own_words if m["text"] is not None],
            "feedback_to_my_teams": to_teams,
            "feedback_written": [{"game_id": d["game_id"], "group_id": d["group_id"], "round_no": d["round_no"],
                                  "quality": d["quality"], "role": d["role"], "status": d["status"], **parts_of(d)}
                                 for d in written],
        }

    answer_data_requests(svc, DATA, collect)
