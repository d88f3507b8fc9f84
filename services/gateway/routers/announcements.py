"""The Main group's announcements: moderators' posts and what the services' policies announce (a new
working group; the calendar's season grid, later), worded in the reader's language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, status
from pydantic import BaseModel, ConfigDict

from libs.contracts import groups as c
from libs.contracts.groups import SERVICE
from libs.contracts.types import ID_PATTERN
from services.gateway.deps import AuthBus, AuthCommandBus
from services.gateway.i18n import language
from services.gateway.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/announcements", tags=["announcements"], responses=PROBLEM_RESPONSES)


class AnnouncementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: c.AnnouncementTitle
    body: c.AnnouncementBody


@router.get("", response_model=c.ListAnnouncements.reply_model,
            summary="Announcements of the Main group, newest first; follow next_cursor (Main-group members)")
async def list_announcements(bus: AuthBus, limit: int = 20, cursor: str | None = None,
                             accept_language: Annotated[str | None, Header()] = None):
    return await bus.query(SERVICE, c.ListAnnouncements(
        lang=language(accept_language), limit=limit, cursor=cursor or None))


@router.post("", response_model=c.PostAnnouncement.reply_model, status_code=status.HTTP_201_CREATED,
             summary="Announce to the Main group (moderators)")
async def post_announcement(body: AnnouncementIn, bus: AuthCommandBus):
    return await bus.command(SERVICE, c.PostAnnouncement(title=body.title, body=body.body))


@router.delete("/{announcement_id}", response_model=c.WithdrawAnnouncement.reply_model,
               summary="Withdraw an announcement (moderators)")
async def withdraw_announcement(bus: AuthCommandBus, announcement_id: str = Path(pattern=ID_PATTERN)):
    return await bus.command(SERVICE, c.WithdrawAnnouncement(announcement_id=announcement_id))
