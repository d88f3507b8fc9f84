"""Groups' part of a member's data (docs/adr/0024): the groups they are in and proposed, what they wrote
(group chat, personal messages, task comments, requests to join, calls and announcements they made), the
files they uploaded (a list with links) and their tasks. Only the member's own words: other people's
messages in the same chat, whom they wrote to, the titles of tasks others created are not theirs to take."""

from __future__ import annotations

from typing import Any

from libs.kit.data_requests import answer_data_requests
from libs.kit.service import Service
from services.groups.chat_projections import DIRECT, MESSAGES
from services.groups.domain import DATA
from services.groups.drive_projections import FILES, VERSIONS
from services.groups.projections import ANNOUNCEMENTS, CALLS, GROUPS, MEMBERS, REQUESTS
from services.groups.task_projections import TASK_ASSIGNEES, TASK_COMMENTS, TASKS

ALL = 1_000_000


def register_my_data(svc: Service) -> None:
    async def mine(collection: str, field: str, member_id: str, sort: str) -> list[dict[str, Any]]:
        return await svc.store.find(collection, {field: member_id}, [(sort, 1)], ALL)

    async def title(group_id: str) -> str | None:
        doc = await svc.store.get(GROUPS, group_id)
        return (doc.get("title") or doc.get("title_ru")) if doc else None

    async def collect(member_id: str) -> dict[str, Any]:
        memberships = await mine(MEMBERS, "member_id", member_id, "joined_at")
        tasks = {t["task_id"]: t for t in await mine(TASKS, "created_by", member_id, "position")}
        assigned = await mine(TASK_ASSIGNEES, "member_id", member_id, "position")
        for row in assigned:
            if row["task_id"] not in tasks and (task := await svc.store.get(TASKS, row["task_id"])) is not None:
                tasks[row["task_id"]] = task
        files = []
        #: a conversation's id is its two members': the export numbers them instead of naming the other
        conversations: dict[str, int] = {}
        for v in await mine(VERSIONS, "uploaded_by", member_id, "uploaded_at"):
            f = await svc.store.get(FILES, v["file_id"]) or {}
            files.append({"group_id": v["group_id"], "file_id": v["file_id"], "version": v["version"],
                          "name": f.get("name") if f.get("name_by") == member_id else None,
                          "media_type": v["media_type"], "size": v["size"], "uploaded_at": v["uploaded_at"],
                          "link": f"/v1/groups/{v['group_id']}/files/{v['file_id']}/versions/{v['version']}/content"})
        return {
            "groups": [{"group_id": m["group_id"], "title": await title(m["group_id"]), "joined_at": m["joined_at"]}
                       for m in memberships],
            "groups_proposed": [{"group_id": g["group_id"], "title": g.get("title"),
                                 "description": g.get("description"), "status": g.get("status")}
                                for g in await mine(GROUPS, "proposed_by", member_id, "group_id")],
            "join_requests": [{"group_id": r["group_id"], "message": r.get("message"),
                               "requested_at": r.get("requested_at")}
                              for r in await mine(REQUESTS, "member_id", member_id, "group_id")],
            "chat_messages": [{"group_id": m["group_id"], "message_id": m["message_id"], "thread_id": m["thread_id"],
                               "text": m["text"], "posted_at": m["posted_at"], "edited": m["edited"]}
                              for m in await mine(MESSAGES, "author_id", member_id, "position")
                              if m["text"] is not None],
            "personal_messages_sent": [{"conversation": conversations.setdefault(m["conversation_id"],
                                                                                 len(conversations) + 1),
                                        "text": m["text"], "sent_at": m["sent_at"]}
                                       for m in await mine(DIRECT, "sender_id", member_id, "position")
                                       if m["text"] is not None],
            "task_comments": [{"task_id": c["task_id"], "group_id": c["group_id"], "text": c["text"],
                               "posted_at": c["posted_at"]}
                              for c in await mine(TASK_COMMENTS, "author_id", member_id, "position")
                              if c["text"] is not None],
            "tasks": [{"task_id": t["task_id"], "group_id": t["group_id"], "status": t["status"], "due": t["due"],
                       "created_by_me": t.get("created_by") == member_id,
                       "assigned_to_me": member_id in t.get("assignees", []),
                       # what another member wrote of their task is theirs: only one's own titles
                       **({"title": t["title"], "description": t.get("description"),
                           "checklist": [i["text"] for i in t.get("checklist", [])]}
                          if t.get("created_by") == member_id else {})}
                      for t in tasks.values() if not t.get("deleted")],
            "files_uploaded": files,
            "calls_scheduled": [{"call_id": c["call_id"], "group_id": c["group_id"], "topic": c["topic"],
                                 "starts_at": c["starts_at"]}
                                for c in await mine(CALLS, "scheduled_by", member_id, "starts_at")],
            "announcements": [{"announcement_id": a["announcement_id"], "title": a.get("title"),
                               "body": a.get("body"), "published_at": a["published_at"]}
                              for a in await mine(ANNOUNCEMENTS, "author_id", member_id, "published_at")],
        }

    answer_data_requests(svc, DATA, collect)
