"""The permission matrix: every operation of the gateway's OpenAPI × every role.

Each cell names the exact status the role gets for a valid request. The
operations come from ``create_app().openapi()``, so an endpoint added without
a row here fails. Every refusal is problem+json and appends nothing to the log.

The matrix runs on the development platform and on the HRM_ENV=production one
(fixture ``secured``): the same cells, except that production serves no API
documents (``DOCS_PATHS``: 404 to every role, the admin included).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.gateway.app import create_app
from services.gateway.problems import PROBLEM_SCHEMA
from services.gateway.settings import Settings as GatewaySettings
from services.notifications.links import unsubscribe_token
from tests.e2e.helpers import log_position, settle, settled_position
from tests.e2e.journey import FULL_PROFILE, invite, login, make_member, make_moderator, ready_for_review
from tests.e2e.test_calendar import game_team, new_season_id, plan
from tests.e2e.test_feedback import HELP as HELP_BODY
from tests.e2e.test_feedback import PARTS as FEEDBACK_PARTS
from tests.platform_harness import Platform
from tests.season_years import Years
from tests.security.conftest import PASSWORD, ROLES, Actor, new_guest

#: every (METHOD, path) the gateway serves, read from its OpenAPI document (development settings:
#: production serves no document, and the same operations: test_production_serves_the_same_operations)
OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in create_app(GatewaySettings()).openapi()["paths"].items()
    for method in item
    if method in ("get", "put", "post", "delete", "patch")
)


def row(anonymous: int, guest: int, member: int, moderator: int, admin: int) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, guest, member, moderator, admin), strict=True))


PUBLIC_200 = row(200, 200, 200, 200, 200)
SIGNED_IN = row(401, 200, 200, 200, 200)
MODERATOR_200 = row(401, 403, 403, 200, 200)
ADMIN_200 = row(401, 403, 403, 403, 200)
#: the calendar's reads (and a member's own steps in it): the Main group and the moderators
CALENDAR_READER = row(401, 403, 200, 200, 200)

EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("POST", "/v1/auth/token"): PUBLIC_200,
    ("POST", "/v1/auth/refresh"): PUBLIC_200,
    ("POST", "/v1/registrations"): row(201, 201, 201, 201, 201),
    ("GET", "/v1/me"): SIGNED_IN,
    ("POST", "/v1/me/rules-acknowledgement"): SIGNED_IN,
    ("PUT", "/v1/me/profile"): SIGNED_IN,
    ("PUT", "/v1/me/visibility"): SIGNED_IN,
    # the Colleagues directory is the Main group's: a guest is only in Introduction
    ("GET", "/v1/colleagues"): row(401, 403, 200, 200, 200),
    ("GET", "/v1/colleagues/{member_id}"): row(401, 403, 200, 200, 200),
    ("POST", "/v1/invitations"): row(401, 403, 403, 201, 201),
    ("GET", "/v1/invitations"): MODERATOR_200,
    ("DELETE", "/v1/invitations/{token}"): MODERATOR_200,
    # the join page asks before anyone registers: the link is the secret
    ("GET", "/v1/invitations/{token}"): PUBLIC_200,
    ("GET", "/v1/moderation/queue"): MODERATOR_200,
    ("POST", "/v1/moderation/{member_id}/decision"): MODERATOR_200,
    ("GET", "/v1/moderation/{member_id}/history"): MODERATOR_200,
    # the Main group's list: its members and moderators; a guest is only in Introduction
    ("GET", "/v1/groups/{group_id}/members"): row(401, 403, 200, 200, 200),
    # working groups are the Main group's; a guest may not know one exists (404)
    ("POST", "/v1/groups"): row(401, 403, 201, 201, 201),
    ("GET", "/v1/groups"): row(401, 403, 200, 200, 200),
    ("GET", "/v1/groups/{group_id}"): row(401, 404, 200, 200, 200),
    ("POST", "/v1/groups/{group_id}/decision"): MODERATOR_200,
    # the group's coordinator is the admin who created it: a moderator is let in by the role
    ("PUT", "/v1/groups/{group_id}/settings"): MODERATOR_200,
    ("POST", "/v1/groups/{group_id}/archive"): MODERATOR_200,
    ("POST", "/v1/groups/{group_id}/join"): row(401, 403, 200, 200, 200),
    ("GET", "/v1/groups/{group_id}/requests"): row(401, 404, 403, 200, 200),
    ("POST", "/v1/groups/{group_id}/requests/{member_id}/decision"): MODERATOR_200,
    ("POST", "/v1/groups/{group_id}/invitations"): MODERATOR_200,
    # every Main member is invited beforehand; a guest cannot be
    ("POST", "/v1/groups/{group_id}/invitations/accept"): row(401, 404, 200, 200, 200),
    # leaving a group one is not in changes nothing
    ("POST", "/v1/groups/{group_id}/leave"): SIGNED_IN,
    # one's own request or invitation: nothing to withdraw is no error (the answer says "none")
    ("POST", "/v1/groups/{group_id}/requests/mine/withdraw"): SIGNED_IN,
    ("POST", "/v1/groups/{group_id}/invitations/decline"): SIGNED_IN,
    ("DELETE", "/v1/groups/{group_id}/members/{member_id}"): MODERATOR_200,
    ("PUT", "/v1/groups/{group_id}/coordinators/{member_id}"): MODERATOR_200,
    ("DELETE", "/v1/groups/{group_id}/coordinators/{member_id}"): MODERATOR_200,
    # the map is the Main group's; each sees the groups they may
    ("GET", "/v1/groups/map"): row(401, 403, 200, 200, 200),
    ("GET", "/v1/groups/map.svg"): row(401, 403, 200, 200, 200),
    # a group whose content is for its members (the default): the member of Main outside it is refused
    ("GET", "/v1/groups/{group_id}/calls"): row(401, 404, 403, 200, 200),
    ("POST", "/v1/groups/{group_id}/calls"): row(401, 403, 403, 201, 201),
    ("DELETE", "/v1/groups/{group_id}/calls/{call_id}"): MODERATOR_200,
    ("GET", "/v1/announcements"): row(401, 403, 200, 200, 200),
    ("POST", "/v1/announcements"): row(401, 403, 403, 201, 201),
    ("DELETE", "/v1/announcements/{announcement_id}"): MODERATOR_200,
    # a group's chat: content for its members (the default) is read by them and by moderators; only its
    # members write, react and keep read marks; one's own message is edited by oneself alone, deleted by
    # oneself and by moderators; a guest may not know the group exists
    ("GET", "/v1/groups/{group_id}/messages"): row(401, 404, 403, 200, 200),
    ("GET", "/v1/groups/{group_id}/messages/search"): row(401, 404, 403, 200, 200),
    ("POST", "/v1/groups/{group_id}/messages"): row(401, 404, 403, 403, 201),
    ("PUT", "/v1/groups/{group_id}/messages/{message_id}"): row(401, 404, 403, 403, 200),
    ("DELETE", "/v1/groups/{group_id}/messages/{message_id}"): row(401, 404, 403, 200, 200),
    ("PUT", "/v1/groups/{group_id}/messages/{message_id}/reactions"): row(401, 404, 403, 403, 200),
    ("PUT", "/v1/groups/{group_id}/read"): row(401, 404, 403, 403, 200),
    # one's own unread, conversations, blocks and stream
    ("GET", "/v1/me/unread"): SIGNED_IN,
    ("GET", "/v1/conversations"): SIGNED_IN,
    ("GET", "/v1/conversations/{member_id}/messages"): SIGNED_IN,
    # personal messages are the Main group's: a guest never writes first
    ("POST", "/v1/conversations/{member_id}/messages"): row(401, 403, 201, 201, 201),
    ("PUT", "/v1/conversations/{member_id}/read"): SIGNED_IN,
    ("PUT", "/v1/blocks/{member_id}"): SIGNED_IN,
    ("DELETE", "/v1/blocks/{member_id}"): SIGNED_IN,
    ("GET", "/v1/stream"): SIGNED_IN,
    # a group's tasks: read as its chat is (members, moderators; Main when its content is open); written by
    # its members only; a task is deleted by its creator, the group's coordinators and moderators
    ("GET", "/v1/groups/{group_id}/tasks"): row(401, 404, 403, 200, 200),
    ("POST", "/v1/groups/{group_id}/tasks"): row(401, 404, 403, 403, 201),
    ("GET", "/v1/groups/{group_id}/tasks/{task_id}"): row(401, 404, 403, 200, 200),
    ("PUT", "/v1/groups/{group_id}/tasks/{task_id}"): row(401, 404, 403, 403, 200),
    ("DELETE", "/v1/groups/{group_id}/tasks/{task_id}"): row(401, 404, 403, 200, 200),
    ("PUT", "/v1/groups/{group_id}/tasks/{task_id}/assignees"): row(401, 404, 403, 403, 200),
    ("PUT", "/v1/groups/{group_id}/tasks/{task_id}/due"): row(401, 404, 403, 403, 200),
    ("PUT", "/v1/groups/{group_id}/tasks/{task_id}/status"): row(401, 404, 403, 403, 200),
    ("POST", "/v1/groups/{group_id}/tasks/{task_id}/checklist"): row(401, 404, 403, 403, 201),
    ("PUT", "/v1/groups/{group_id}/tasks/{task_id}/checklist/{item_id}"): row(401, 404, 403, 403, 200),
    ("DELETE", "/v1/groups/{group_id}/tasks/{task_id}/checklist/{item_id}"): row(401, 404, 403, 403, 200),
    ("POST", "/v1/groups/{group_id}/tasks/{task_id}/comments"): row(401, 404, 403, 403, 201),
    ("GET", "/v1/me/tasks"): SIGNED_IN,
    # a group's drive: read as its chat is; written by its members only (a moderator outside it included);
    # erased for good from the bin by its coordinators (and moderators in it)
    ("GET", "/v1/groups/{group_id}/files"): row(401, 404, 403, 200, 200),
    ("POST", "/v1/groups/{group_id}/files"): row(401, 404, 403, 403, 201),
    ("GET", "/v1/groups/{group_id}/files/{file_id}"): row(401, 404, 403, 200, 200),
    ("PATCH", "/v1/groups/{group_id}/files/{file_id}"): row(401, 404, 403, 403, 200),
    ("DELETE", "/v1/groups/{group_id}/files/{file_id}"): row(401, 404, 403, 403, 200),
    ("GET", "/v1/groups/{group_id}/files/{file_id}/content"): row(401, 404, 403, 200, 200),
    ("GET", "/v1/groups/{group_id}/files/{file_id}/versions/{version}/content"): row(401, 404, 403, 200, 200),
    ("POST", "/v1/groups/{group_id}/files/{file_id}/versions"): row(401, 404, 403, 403, 201),
    ("POST", "/v1/groups/{group_id}/files/{file_id}/restore"): row(401, 404, 403, 403, 200),
    ("DELETE", "/v1/groups/{group_id}/bin/{file_id}"): row(401, 404, 403, 403, 200),
    # the calendar: read by the Main group and moderators (a guest is only in Introduction); seasons' steps,
    # decisions on requests, the grid and taking someone else's place away are the moderators'; asking for
    # an event, supporting another's request and taking a place need the Main group
    ("GET", "/v1/seasons"): CALENDAR_READER,
    ("POST", "/v1/seasons"): row(401, 403, 403, 201, 201),
    ("GET", "/v1/seasons/{season_id}"): CALENDAR_READER,
    ("POST", "/v1/seasons/{season_id}/open"): MODERATOR_200,
    ("POST", "/v1/seasons/{season_id}/close"): MODERATOR_200,
    ("POST", "/v1/seasons/{season_id}/results"): MODERATOR_200,
    ("GET", "/v1/seasons/{season_id}/requests"): CALENDAR_READER,
    ("POST", "/v1/seasons/{season_id}/requests"): row(401, 403, 201, 201, 201),
    ("POST", "/v1/seasons/{season_id}/requests/{request_id}/support"): CALENDAR_READER,
    ("POST", "/v1/seasons/{season_id}/requests/{request_id}/accept"): MODERATOR_200,
    ("POST", "/v1/seasons/{season_id}/requests/{request_id}/merge"): MODERATOR_200,
    ("POST", "/v1/seasons/{season_id}/requests/{request_id}/decline"): MODERATOR_200,
    ("GET", "/v1/seasons/{season_id}/events"): CALENDAR_READER,
    ("POST", "/v1/seasons/{season_id}/events"): row(401, 403, 403, 201, 201),
    ("GET", "/v1/seasons/{season_id}/events/{event_id}"): CALENDAR_READER,
    ("PUT", "/v1/seasons/{season_id}/events/{event_id}"): MODERATOR_200,
    ("DELETE", "/v1/seasons/{season_id}/events/{event_id}"): MODERATOR_200,
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/cancel"): MODERATOR_200,
    ("PUT", "/v1/seasons/{season_id}/events/{event_id}/registration"): CALENDAR_READER,
    # giving up one's own place (the caller holds one, but the guest, who cannot)
    ("DELETE", "/v1/seasons/{season_id}/events/{event_id}/registration"): CALENDAR_READER,
    ("DELETE", "/v1/seasons/{season_id}/events/{event_id}/registrations/{member_id}"): MODERATOR_200,
    # the report, once published, is read as the grid is
    ("GET", "/v1/seasons/{season_id}/results"): CALENDAR_READER,
    # who came to an event already begun: its host (someone else here, not one of the roles) and moderators
    # (the guest is refused by that same rule: host_or_moderator_only)
    ("PUT", "/v1/seasons/{season_id}/events/{event_id}/attendance"): MODERATOR_200,
    # a game's teams: read as the grid is; confirmed or declined by moderators; a team applies and takes an
    # offered place by its coordinator only, the moderators' role standing for no one here: the roles' team
    # is coordinated by the member and the admin, the moderator is not in it (team_coordinator_only), nor can
    # a guest be (not in Main, they cannot join it: refused by the same rule, team_coordinator_only, which comes
    # before any other); someone else's team withdraws, or passes on its offered place, by its coordinator or a
    # moderator (coordinator_only)
    ("GET", "/v1/seasons/{season_id}/events/{event_id}/teams"): CALENDAR_READER,
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/teams"): row(401, 403, 201, 403, 201),
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/teams/{group_id}/confirm"): MODERATOR_200,
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/teams/{group_id}/decline"): MODERATOR_200,
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/teams/{group_id}/withdraw"): MODERATOR_200,
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/teams/{group_id}/accept"): row(401, 403, 200, 403, 200),
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/teams/{group_id}/pass"): MODERATOR_200,
    # the season's research: read as the grid is; its tasks, their distribution and someone else's offer are
    # the moderators'; hours are offered by the Main group, and one's own offer withdrawn (the roles in Main
    # hold one here; a guest, who cannot, has nothing of the research to read)
    ("GET", "/v1/seasons/{season_id}/research"): CALENDAR_READER,
    ("POST", "/v1/seasons/{season_id}/research/tasks"): row(401, 403, 403, 201, 201),
    ("DELETE", "/v1/seasons/{season_id}/research/tasks/{task_id}"): MODERATOR_200,
    ("PUT", "/v1/seasons/{season_id}/research/offer"): CALENDAR_READER,
    ("DELETE", "/v1/seasons/{season_id}/research/offer"): CALENDAR_READER,
    ("DELETE", "/v1/seasons/{season_id}/research/offers/{member_id}"): MODERATOR_200,
    ("POST", "/v1/seasons/{season_id}/research/distribute"): MODERATOR_200,
    ("POST", "/v1/seasons/{season_id}/research/reopen"): MODERATOR_200,
    ("GET", "/v1/me/calendar"): CALENDAR_READER,
    ("GET", "/v1/me/calendar/links"): CALENDAR_READER,
    ("POST", "/v1/me/calendar/links"): CALENDAR_READER,
    # a calendar app reads the feeds with no sign-in: the token in a valid link is the key, whoever asks
    ("GET", "/v1/calendar/feeds/{member_id}/{token}/personal.ics"): PUBLIC_200,
    ("GET", "/v1/calendar/feeds/{member_id}/{token}/seasons/{season_id}.ics"): PUBLIC_200,
    ("GET", "/v1/calendar/feeds/{member_id}/{token}/groups/{group_id}.ics"): PUBLIC_200,
    # the 12 roles: the matrix, the pick window and the boards are read by the Main group and moderators; a role
    # in a working group is picked by its members (the moderator is not in the group: not_in_group), a Vision
    # role by the Main group (each role in Main has the history it needs); someone else's pick is given up by
    # moderators (own_picks_only), one's own by oneself; a group's capacities are its coordinators' (the admin
    # created it) and moderators', the coordination's the moderators'; someone else's map is the moderators'
    ("GET", "/v1/roles"): CALENDAR_READER,
    ("GET", "/v1/roles/window"): CALENDAR_READER,
    ("GET", "/v1/groups/{group_id}/roles"): CALENDAR_READER,
    ("GET", "/v1/groups/{group_id}/roles/coverage.svg"): CALENDAR_READER,
    ("PUT", "/v1/groups/{group_id}/roles/{role}/pick"): row(401, 403, 200, 403, 200),
    ("DELETE", "/v1/groups/{group_id}/roles/{role}/pick"): MODERATOR_200,
    ("PUT", "/v1/groups/{group_id}/roles/{role}/capacity"): MODERATOR_200,
    ("GET", "/v1/roles/coordination"): CALENDAR_READER,
    ("PUT", "/v1/roles/coordination/{role}/pick"): CALENDAR_READER,
    ("DELETE", "/v1/roles/coordination/{role}/pick"): CALENDAR_READER,
    ("PUT", "/v1/roles/coordination/{role}/capacity"): MODERATOR_200,
    ("GET", "/v1/me/roles"): CALENDAR_READER,
    ("GET", "/v1/me/roles/map.svg"): CALENDAR_READER,
    ("GET", "/v1/members/{member_id}/development-map"): MODERATOR_200,
    # feedback (HR-ВЛИЯНИЕ games): games, a member's own feedback and what an observer owes are read by the Main
    # group and moderators; observers are assigned and taken off by moderators; a round is opened and closed by
    # the game's host (someone else here) and moderators (host_or_moderator_only); feedback is written by the
    # game's assigned observers alone: the member and the admin are assigned, the moderator holds the observer
    # role too but is not (assigned_observers_only); another team's feedback is read by moderators (and its
    # members and the game's observers), not by the member, whose team plays the same game (team_members_only);
    # a published piece is answered by its team's members: the member and the admin, not the moderator; the two
    # checks store nothing and answer anyone signed in; help is asked by the Main group, the queue is the
    # moderators'; someone else's request does not exist for a member outside it (404), it is routed and declined
    # by moderators, its thread written by its people and moderators (to others it does not exist); one's own request
    # is closed by oneself alone, a moderator included (asker_only)
    ("GET", "/v1/games"): CALENDAR_READER,
    ("GET", "/v1/games/{game_id}"): CALENDAR_READER,
    ("PUT", "/v1/games/{game_id}/observers/{observer_id}"): MODERATOR_200,
    ("DELETE", "/v1/games/{game_id}/observers/{observer_id}"): MODERATOR_200,
    ("POST", "/v1/games/{game_id}/rounds"): row(401, 403, 403, 201, 201),
    ("POST", "/v1/games/{game_id}/rounds/close"): MODERATOR_200,
    ("PUT", "/v1/games/{game_id}/rounds/{round_no}/teams/{group_id}/feedback"): row(401, 403, 200, 403, 200),
    ("GET", "/v1/games/{game_id}/teams/{group_id}/feedback"): MODERATOR_200,
    ("PUT", "/v1/feedback/{feedback_id}/mark"): row(401, 403, 200, 403, 200),
    ("POST", "/v1/feedback/check"): SIGNED_IN,
    ("GET", "/v1/me/feedback"): CALENDAR_READER,
    ("GET", "/v1/me/feedback/owed"): CALENDAR_READER,
    ("POST", "/v1/help-requests/check"): SIGNED_IN,
    ("POST", "/v1/help-requests"): row(401, 403, 201, 201, 201),
    ("GET", "/v1/help-requests"): MODERATOR_200,
    ("GET", "/v1/help-requests/{request_id}"): row(401, 403, 404, 200, 200),
    ("POST", "/v1/help-requests/{request_id}/route"): MODERATOR_200,
    ("POST", "/v1/help-requests/{request_id}/decline"): MODERATOR_200,
    ("POST", "/v1/help-requests/{request_id}/messages"): row(401, 403, 404, 201, 201),
    ("POST", "/v1/help-requests/{request_id}/close"): row(401, 403, 200, 403, 403),
    ("GET", "/v1/members"): MODERATOR_200,
    # someone else's record: moderators only (one's own is tested below)
    ("GET", "/v1/members/{member_id}"): MODERATOR_200,
    ("PUT", "/v1/members/{member_id}/roles"): ADMIN_200,
    ("DELETE", "/v1/members/{member_id}"): ADMIN_200,
    # notifications: one's own list, read marks and preferences, whoever is signed in (a guest is told of the
    # decision on them too); an e-mail's unsubscribe link works with no sign-in, its signature the key, whoever
    # asks (a forged one, or one made over for another member or kind, is refused: tested below)
    ("GET", "/v1/notifications"): SIGNED_IN,
    ("POST", "/v1/notifications/read"): SIGNED_IN,
    ("GET", "/v1/me/notification-preferences"): SIGNED_IN,
    ("PUT", "/v1/me/notification-preferences"): SIGNED_IN,
    ("GET", "/v1/notifications/unsubscribe"): PUBLIC_200,
    ("POST", "/v1/notifications/unsubscribe"): PUBLIC_200,
    # one's own data: asked for, followed and downloaded by whoever is signed in (a guest too); withdrawing
    # one's consent erases the caller, so the matrix sends it unconfirmed, refused alike to everyone signed in
    # (the confirmed withdrawal of each role is tested below)
    ("POST", "/v1/me/data"): row(401, 202, 202, 202, 202),
    ("GET", "/v1/me/data"): SIGNED_IN,
    ("GET", "/v1/me/data/export.json"): SIGNED_IN,
    ("POST", "/v1/me/consent/withdrawal"): row(401, 422, 422, 422, 422),
    ("GET", "/healthz"): PUBLIC_200,
    ("GET", "/readyz"): PUBLIC_200,
    ("GET", "/asyncapi.json"): PUBLIC_200,
}

#: the API documents: served in development, in production to no one (not in the OpenAPI
#: document but /asyncapi.json; FastAPI leaves its own three out)
DOCS_PATHS = ("/docs", "/redoc", "/openapi.json", "/asyncapi.json")
NOT_FOUND = row(404, 404, 404, 404, 404)


def expected_row(env: str, operation: tuple[str, str]) -> dict[str, int]:
    return NOT_FOUND if env == "production" and operation[1] in DOCS_PATHS else EXPECTED[operation]


#: the codes a refusal may carry, by status
REFUSAL_CODES = {
    401: {"login_required"},
    403: {"moderator_only", "admin_only", "not_your_profile", "not_a_group_member", "members_only",
          "main_group_only", "coordinator_only", "group_members_only", "group_content_members_only",
          "not_your_message", "not_your_task", "calendar_members_only", "own_registration_only",
          "host_or_moderator_only", "team_coordinator_only", "own_offer_only", "community_members_only",
          "not_in_group", "own_picks_only", "own_map_only", "assigned_observers_only", "team_members_only",
          "asker_only"},
    # the documents in production; a working group hidden from the caller, an invitation they lack, someone
    # else's help request
    404: {"not_found", "group_not_found", "group_invitation_not_found", "help_request_not_found"},
    # one's consent withdrawn without the word typed
    422: {"withdrawal_not_confirmed"},
}


#: the rule a cell's refusal names where it matters which (the feedback's rows: every role outside the community,
#: then the rule each role in it breaks), exactly: a refusal by another rule of the same status would be blind
_FEEDBACK_RULES: dict[tuple[str, str], dict[str, str]] = {
    ("PUT", "/v1/games/{game_id}/observers/{observer_id}"): {"member": "moderator_only"},
    ("DELETE", "/v1/games/{game_id}/observers/{observer_id}"): {"member": "moderator_only"},
    ("POST", "/v1/games/{game_id}/rounds"): {"member": "host_or_moderator_only"},
    ("POST", "/v1/games/{game_id}/rounds/close"): {"member": "host_or_moderator_only"},
    ("PUT", "/v1/games/{game_id}/rounds/{round_no}/teams/{group_id}/feedback"): {
        "moderator": "assigned_observers_only"},
    ("GET", "/v1/games/{game_id}/teams/{group_id}/feedback"): {"member": "team_members_only"},
    ("PUT", "/v1/feedback/{feedback_id}/mark"): {"moderator": "team_members_only"},
    ("GET", "/v1/help-requests"): {"member": "moderator_only"},
    ("GET", "/v1/help-requests/{request_id}"): {"member": "help_request_not_found"},
    ("POST", "/v1/help-requests/{request_id}/route"): {"member": "moderator_only"},
    ("POST", "/v1/help-requests/{request_id}/decline"): {"member": "moderator_only"},
    ("POST", "/v1/help-requests/{request_id}/messages"): {"member": "help_request_not_found"},
    ("POST", "/v1/help-requests/{request_id}/close"): {"moderator": "asker_only", "admin": "asker_only"},
}
REFUSED_BY: dict[tuple[tuple[str, str], str], str] = {
    **{(op, "guest"): "community_members_only" for op in EXPECTED
       if op[1].startswith(("/v1/games", "/v1/feedback/", "/v1/me/feedback", "/v1/help-requests"))
       and not op[1].endswith("/check")},
    **{(op, role): code for op, codes in _FEEDBACK_RULES.items() for role, code in codes.items()},
}

@dataclass
class Call:
    method: str
    url: str
    json: Any = None
    #: a raw body (a file uploaded to a drive) instead of JSON
    content: bytes | None = None


@dataclass
class World:
    """What the builders need: the platform, an admin token and a bystander account."""

    p: Platform
    admin: str
    bystander: Actor
    #: every role's member id (the working-group builders invite the ones in Main)
    ids: dict[str, str | None]
    #: every role's token (the calendar's builders give the roles in Main a place to give up)
    tokens: dict[str, str | None] = field(default_factory=dict)
    #: what builders share within one env (a season only read, a member who asks for events)
    shared: dict[str, Any] = field(default_factory=dict)
    #: operation -> the request last built for it, while every role that asked it so far was refused: a refusal
    #: changes nothing (each cell asserts the log did not move), so the next role asks about the same target
    #: rather than a fresh one. Building targets (members, seasons, games, groups, settled after) was most of the
    #: matrix's time; a target some role's request was accepted on is built afresh for the next role
    untouched: dict[tuple[str, str], Call] = field(default_factory=dict)


Builder = Callable[[World], Awaitable[Call]]


async def _fresh_refresh_token(w: World) -> Call:
    tokens = await login(w.p, w.bystander.email, PASSWORD)
    return Call("POST", "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})


async def _registration(w: World) -> Call:
    inv = await invite(w.p, w.admin)
    return Call("POST", "/v1/registrations", {
        "invitation_token": inv["token"], "email": f"matrix-{uuid.uuid4().hex[:10]}@example.ru",
        "password": PASSWORD, "full_name": "Пётр Матрицын", "consent_personal_data": True,
    })


async def _revocation(w: World) -> Call:
    return Call("DELETE", f"/v1/invitations/{(await invite(w.p, w.admin))['token']}")


async def _invitation_check(w: World) -> Call:
    return Call("GET", f"/v1/invitations/{(await invite(w.p, w.admin))['token']}")


async def _decision(w: World) -> Call:
    target, _ = await ready_for_review(w.p, w.admin)  # reviewable: only the role can stand in the way
    return Call("POST", f"/v1/moderation/{target}/decision", {"decision": "grant"})


async def _set_roles(w: World) -> Call:
    target, _, _ = await make_member(w.p, w.admin)  # only a member can be given a role
    return Call("PUT", f"/v1/members/{target}/roles", {"roles": ["observer"]})


async def _colleague(w: World) -> Call:
    target, _, _ = await make_member(w.p, w.admin)  # in the directory: only its readers can be refused
    return Call("GET", f"/v1/colleagues/{target}")


async def _erasure(w: World) -> Call:
    target = await new_guest(w.p, w.admin)
    return Call("DELETE", f"/v1/members/{target.member_id}")


async def _as_admin(w: World, method: str, url: str, json: Any = None) -> dict:
    async with w.p.client(w.admin) as c:
        r = await c.request(method, url, json=json)
    assert r.status_code in (200, 201), r.text
    return r.json()


async def _working_group(w: World, direct: bool = True, **settings: str) -> str:
    """A fresh working group created by the admin (its coordinator), with these settings."""
    body = {"title": "Матрица прав", "group_type": "research", "direct": direct, "settings": settings}
    return (await _as_admin(w, "POST", "/v1/groups", body))["group_id"]


def working(method: str, template: str, json: Any = None, direct: bool = True, **settings: str) -> Builder:
    async def build(w: World) -> Call:
        group_id = await _working_group(w, direct, **settings)
        return Call(method, template.format(group_id=group_id, member_id=w.bystander.member_id), json)

    return build


async def _join_request_decision(w: World) -> Call:
    group_id = await _working_group(w, joining="request")
    applicant, _, token = await make_member(w.p, w.admin)
    await settle(w.p)
    async with w.p.client(token) as c:
        assert (await c.post(f"/v1/groups/{group_id}/join", json={"message": "Возьмите"})).status_code == 200
    return Call("POST", f"/v1/groups/{group_id}/requests/{applicant}/decision", {"decision": "approve"})


async def _main_member_target(w: World, template: str, json: Any = None, **settings: str) -> Call:
    group_id = await _working_group(w, **settings)
    target, _, _ = await make_member(w.p, w.admin)
    await settle(w.p)
    return Call(template.split(" ")[0], template.split(" ")[1].format(group_id=group_id, member_id=target),
                {"member_id": target} if json else None)


async def _invitation(w: World) -> Call:
    return await _main_member_target(w, "POST /v1/groups/{group_id}/invitations", json=True, joining="invitation")


async def _appointment(w: World) -> Call:
    return await _main_member_target(w, "PUT /v1/groups/{group_id}/coordinators/{member_id}")


async def _acceptance(w: World) -> Call:
    group_id = await _working_group(w, joining="invitation")
    for role in ("member", "moderator"):
        await _as_admin(w, "POST", f"/v1/groups/{group_id}/invitations", {"member_id": w.ids[role]})
    return Call("POST", f"/v1/groups/{group_id}/invitations/accept")


def _soon() -> str:
    return (datetime.now(UTC) + timedelta(days=7)).isoformat()


async def _call_cancellation(w: World) -> Call:
    group_id = await _working_group(w)
    made = await _as_admin(w, "POST", f"/v1/groups/{group_id}/calls", {"topic": "Матрица", "starts_at": _soon()})
    return Call("DELETE", f"/v1/groups/{group_id}/calls/{made['call_id']}")


async def _withdrawal(w: World) -> Call:
    made = await _as_admin(w, "POST", "/v1/announcements", {"title": "Матрица прав", "body": "Проверка"})
    return Call("DELETE", f"/v1/announcements/{made['announcement_id']}")


async def _call_scheduling(w: World) -> Call:
    group_id = await _working_group(w)
    return Call("POST", f"/v1/groups/{group_id}/calls", {"topic": "Матрица", "starts_at": _soon()})


def admins_message(method: str, suffix: str = "", json: Any = None) -> Builder:
    """A message the admin (the group's coordinator) wrote in a fresh group."""

    async def build(w: World) -> Call:
        group_id = await _working_group(w)
        made = await _as_admin(w, "POST", f"/v1/groups/{group_id}/messages", {"text": "Матрица прав"})
        return Call(method, f"/v1/groups/{group_id}/messages/{made['message_id']}{suffix}", json)

    return build


def admins_task(method: str, suffix: str = "", json: Any = None, item: bool = False) -> Builder:
    """A task the admin (the group's coordinator) created in a fresh group (with a checklist item)."""

    async def build(w: World) -> Call:
        group_id = await _working_group(w)
        made = await _as_admin(w, "POST", f"/v1/groups/{group_id}/tasks", {"title": "Матрица прав"})
        url = f"/v1/groups/{group_id}/tasks/{made['task_id']}"
        if item:
            url += "/checklist/" + (await _as_admin(w, "POST", f"{url}/checklist", {"text": "Пункт"}))["item_id"]
        return Call(method, url + suffix, json)

    return build


def admins_file(method: str, suffix: str = "", json: Any = None, content: bytes | None = None,
                binned: bool = False) -> Builder:
    """A file the admin (the group's coordinator) uploaded to a fresh group's drive (and binned)."""

    async def build(w: World) -> Call:
        group_id = await _working_group(w)
        async with w.p.client(w.admin) as c:
            r = await c.post(f"/v1/groups/{group_id}/files", params={"name": "матрица.txt"}, content=b"rights")
        assert r.status_code == 201, r.text
        file_id = r.json()["file_id"]
        if binned:
            await _as_admin(w, "DELETE", f"/v1/groups/{group_id}/files/{file_id}")
        url = suffix.format(group_id=group_id, file_id=file_id)
        return Call(method, url, json, content)

    return build


async def _upload(w: World) -> Call:
    group_id = await _working_group(w)
    return Call("POST", f"/v1/groups/{group_id}/files?name=%D0%BF%D0%BB%D0%B0%D0%BD.txt", content=b"rights")


async def _personal_message(w: World) -> Call:
    target, _, _ = await make_member(w.p, w.admin)  # in Main: only the writer's place can stand in the way
    await settle(w.p)
    return Call("POST", f"/v1/conversations/{target}/messages", {"text": "Добрый день"})


def fixed(method: str, url: str, json: Any = None) -> Builder:
    async def build(w: World) -> Call:
        return Call(method, url, json)

    return build


def bystander(method: str, template: str) -> Builder:
    return bystander_with(method, template)


def bystander_with(method: str, template: str, json: Any = None) -> Builder:
    async def build(w: World) -> Call:
        return Call(method, template.format(member_id=w.bystander.member_id), json)

    return build


async def _sign_in(w: World) -> Call:
    return Call("POST", "/v1/auth/token", {"email": w.bystander.email, "password": PASSWORD})


# ------------------------------------------------------------------ notifications' worlds


async def _tell_every_role(w: World) -> None:
    """A personal message to every role signed in (the admin writes to the others, the moderator to the admin):
    each has a fresh unread notification (personal_message) to list and to mark read."""
    for role, writer in (("guest", w.admin), ("member", w.admin), ("moderator", w.admin),
                         ("admin", w.tokens["moderator"])):
        assert writer is not None
        await _as(w.p, writer, "POST", f"/v1/conversations/{w.ids[role]}/messages", {"text": "Матрица прав"})
    await settle(w.p)


def told(method: str, url: str, json: Any = None) -> Builder:
    async def build(w: World) -> Call:
        await _tell_every_role(w)
        return Call(method, url, json)

    return build


def unsubscribe_secret(p: Platform) -> str:
    return p.settings["notifications"].unsubscribe_secret.get_secret_value()


def unsubscribe_link(method: str) -> Builder:
    """A genuine link from an e-mail of a fresh member (a guest), for a kind still on: whoever follows it
    reads or turns off that kind of theirs."""

    async def build(w: World) -> Call:
        target = await new_guest(w.p, w.admin)
        assert target.member_id is not None
        token = unsubscribe_token(unsubscribe_secret(w.p), target.member_id, "event_changed")
        return Call(method, f"/v1/notifications/unsubscribe?token={token}")

    return build


async def _every_roles_data_ready(w: World) -> Call:
    """Every role signed in has asked for their data, and every service's part of it is in: the download is
    theirs to take."""
    loop = asyncio.get_running_loop()
    for role, token in w.tokens.items():
        if token is None:
            continue
        async with w.p.client(token) as c:
            r = await c.post("/v1/me/data")
            assert r.status_code in (202, 409), r.text  # 409: one of theirs is being assembled still
            deadline = loop.time() + 30
            while (state := (await c.get("/v1/me/data")).json())["status"] != "ready":
                assert loop.time() < deadline, (role, state)
                await asyncio.sleep(0.1)
    return Call("GET", "/v1/me/data/export.json")


# ------------------------------------------------------------------ the calendar's worlds


#: past seasons (their events have begun), each its own year (tests/season_years.py)
_past_years = Years(1400, 1600)

#: what makes a grid event a game (its capacity is then the game's max_teams)
GAME = {"kind": "game", "place": "Екатеринбург", "call_link": None}


async def _season(w: World, phase: str = "planning", events: int = 1, past: bool = False, host_id: str | None = None,
                  **extra: Any) -> tuple[str, list[str]]:
    """A fresh season (its own year; in the past if ``past``) in ``phase``, with ``events`` in its grid (drafts
    while planning) hosted by the admin (or ``host_id``), their plans with ``extra``."""
    season_id = f"{next(_past_years)}-spring" if past else new_season_id()
    await _as_admin(w, "POST", "/v1/seasons", {"season_id": season_id, "title": "Матрица прав"})
    ids = [(await _as_admin(w, "POST", f"/v1/seasons/{season_id}/events",
                            plan(season_id, host_id or w.ids["admin"], title=f"Матрица {i}", day=10 + i,
                                 **{"capacity": 50, **extra})))["event_id"]
           for i in range(events)]
    steps = {"planning": (), "open": ("open",), "closed": ("open", "close"), "published": ("open", "close", "results")}
    for step in steps[phase]:
        await _as_admin(w, "POST", f"/v1/seasons/{season_id}/{step}")
    return season_id, ids


async def _shared_season(w: World, phase: str) -> tuple[str, list[str]]:
    """One season per env and phase for the builders that change nothing of it (reads; requests)."""
    if phase not in w.shared:
        w.shared[phase] = await _season(w, phase)
    return w.shared[phase]


async def _asker(w: World) -> tuple[str, str]:
    """A member of Main other than the roles (their request is someone else's to support; their place someone
    else's to take away): (member_id, token), one per env."""
    if "asker" not in w.shared:
        member_id, _, token = await make_member(w.p, w.admin)
        await settle(w.p)
        w.shared["asker"] = (member_id, token)
    return w.shared["asker"]


async def _as(p: Platform, token: str, method: str, url: str, json: Any = None) -> dict:
    async with p.client(token) as c:
        r = await c.request(method, url, json=json)
    assert r.status_code in (200, 201), r.text
    return r.json()


def season_call(method: str, suffix: str = "", json: Any = None, phase: str = "planning", events: int = 1,
                shared: bool = False) -> Builder:
    """``suffix`` of a season in ``phase`` (a fresh one unless ``shared``); ``{event_id}``: its first event."""

    async def build(w: World) -> Call:
        season_id, ids = await (_shared_season(w, phase) if shared else _season(w, phase, events))
        body = json(season_id, w) if callable(json) else json
        return Call(method, f"/v1/seasons/{season_id}" + suffix.format(event_id=ids[0] if ids else ""), body)

    return build


REQUEST_BODY = {"topic": "Матрица прав", "format": "online", "experience": "Проверка ролей", "group_size": 5}


def on_request(action: str, json: Any = None, by_asker: bool = False) -> Builder:
    """An action on a fresh pending request in the shared planning season: the asker's (one may not support
    one's own) or the admin's; a merge gets an accepted request to go into."""

    async def build(w: World) -> Call:
        season_id, _ = await _shared_season(w, "planning")
        requests = f"/v1/seasons/{season_id}/requests"
        token = (await _asker(w))[1] if by_asker else w.admin
        request_id = (await _as(w.p, token, "POST", requests, REQUEST_BODY))["request_id"]
        body = json
        if action == "merge":
            into = (await _as_admin(w, "POST", requests, {**REQUEST_BODY, "topic": "Цель слияния"}))["request_id"]
            await _as_admin(w, "POST", f"{requests}/{into}/accept")
            body = {"into_request_id": into}
        return Call("POST", f"{requests}/{request_id}/{action}", body)

    return build


async def _own_place_given_up(w: World) -> Call:
    """An open season's event where every role in Main holds a place: the caller gives up their own."""
    season_id, [event_id] = await _season(w, "open")
    url = f"/v1/seasons/{season_id}/events/{event_id}/registration"
    for role in ("member", "moderator", "admin"):
        await _as(w.p, w.tokens[role], "PUT", url)
    return Call("DELETE", url)


async def _place_taken_away(w: World) -> Call:
    """Someone else's place (the asker's) in an open season's event."""
    season_id, [event_id] = await _season(w, "open")
    member_id, token = await _asker(w)
    event = f"/v1/seasons/{season_id}/events/{event_id}"
    assert (await _as(w.p, token, "PUT", event + "/registration"))["my_status"] == "registered"
    return Call("DELETE", f"{event}/registrations/{member_id}")


async def _attendance(w: World) -> Call:
    """Who came to an event already begun (a past season's) hosted by the asker: the admin, who took a place."""
    host_id, _ = await _asker(w)
    season_id, [event_id] = await _season(w, "open", past=True, host_id=host_id)
    event = f"/v1/seasons/{season_id}/events/{event_id}"
    await _as_admin(w, "PUT", event + "/registration")
    return Call("PUT", event + "/attendance", {"present": [w.ids["admin"]]})


#: a team: (group_id, roster, the token of its coordinator who applies)
Team = tuple[str, list[str], str]


async def _other_teams(w: World) -> list[Team]:
    """Two game teams of someone else (each coordinated by a new member of Main, its roster), one pair per env."""
    if "teams" not in w.shared:
        made = [await game_team(w.p, w.admin, w.admin) for _ in range(2)]
        await settle(w.p)
        w.shared["teams"] = [(group_id, [member_id], token) for group_id, member_id, token in made]
    return w.shared["teams"]


async def _roles_team(w: World) -> Team:
    """The roles' game team, one per env: created by the admin (its coordinator), joined by the member, who is
    made a coordinator too; the moderator is not in it. Its roster: the member and the admin."""
    if "roles_team" not in w.shared:
        body = {"title": "Матрица прав: команда", "group_type": "game_team", "direct": True,
                "settings": {"joining": "open"}}
        group_id = (await _as_admin(w, "POST", "/v1/groups", body))["group_id"]
        await _as(w.p, w.tokens["member"], "POST", f"/v1/groups/{group_id}/join", {})
        await _as_admin(w, "PUT", f"/v1/groups/{group_id}/coordinators/{w.ids['member']}")
        await settle(w.p)  # the calendar knows the group's members and coordinators from its read model
        w.shared["roles_team"] = (group_id, [w.ids["member"], w.ids["admin"]], w.admin)
    return w.shared["roles_team"]


async def _game(w: World, max_teams: int = 2) -> str:
    """A fresh open season's game for ``max_teams``: the url of its teams."""
    season_id, [event_id] = await _season(w, "open", **{**GAME, "capacity": max_teams})
    return f"/v1/seasons/{season_id}/events/{event_id}/teams"


async def _apply(w: World, teams: str, team: Team) -> dict:
    group_id, roster, token = team
    return await _as(w.p, token, "POST", teams, {"group_id": group_id, "roster": roster})


async def _team_application(w: World) -> Call:
    """The roles' team applies for a fresh game (by whichever of its coordinators calls)."""
    group_id, roster, _ = await _roles_team(w)
    return Call("POST", await _game(w), {"group_id": group_id, "roster": roster})


def on_team(action: str, state: str, json: Any = None, roles: bool = False) -> Builder:
    """``action`` on a team of a fresh game of one place (someone else's, or the roles' team if ``roles``) in
    ``state``: pending, confirmed, or offered (the place freed by another confirmed team that withdrew); no
    ``action``: the game's teams read."""

    async def build(w: World) -> Call:
        teams = await _game(w, max_teams=1)
        first, second = await _other_teams(w)
        team = await _roles_team(w) if roles else second if state == "offered" else first
        if state == "offered":
            await _apply(w, teams, first)
            await _as_admin(w, "POST", f"{teams}/{first[0]}/confirm")
        await _apply(w, teams, team)
        if state != "pending":
            await _as_admin(w, "POST", f"{teams}/{team[0]}/confirm")
        if state == "offered":
            view = await _as_admin(w, "POST", f"{teams}/{first[0]}/withdraw")
            assert [t["group_id"] for t in view["offered"]] == [team[0]], view
        return Call("POST", f"{teams}/{team[0]}/{action}", json) if action else Call("GET", teams)

    return build


def research(method: str, suffix: str = "", json: Any = None, task: bool = False, offers: tuple[str, ...] = (),
             distributed: bool = False) -> Builder:
    """``suffix`` of the research of a fresh planning season: with a task of the admin's (``{task_id}``), the
    offers of hours of ``offers`` (roles, or the asker: ``{member_id}``), distributed."""

    async def build(w: World) -> Call:
        season_id, _ = await _season(w, events=0)
        url = f"/v1/seasons/{season_id}/research"
        task_id = (await _as_admin(w, "POST", url + "/tasks", RESEARCH_TASK))["tasks"][0]["task_id"] if task else ""
        for who in offers:
            token = (await _asker(w))[1] if who == "asker" else w.tokens[who]
            await _as(w.p, token, "PUT", url + "/offer", {"hours": 8})
        if distributed:
            await _as_admin(w, "POST", url + "/distribute")
        member_id = (await _asker(w))[0] if "{member_id}" in suffix else ""
        return Call(method, url + suffix.format(task_id=task_id, member_id=member_id), json)

    return build


RESEARCH_TASK = {"title": "Матрица прав", "effort_hours": 4}


async def _season_start(w: World) -> Call:
    return Call("POST", "/v1/seasons", {"season_id": new_season_id(), "title": "Матрица прав"})


def feed(kind: str) -> Builder:
    """The admin's valid link to a feed: personal, the shared open season's, a fresh working group's."""

    async def build(w: World) -> Call:
        links = await _as_admin(w, "GET", "/v1/me/calendar/links")
        if kind == "season":
            return Call("GET", links["season"].replace("{season_id}", (await _shared_season(w, "open"))[0]))
        if kind == "group":
            return Call("GET", links["group"].replace("{group_id}", await _working_group(w)))
        return Call("GET", links["personal"])

    return build



# ------------------------------------------------------------------ the roles' worlds


#: what the roles' builders share on each platform, by env, for the whole session: the history that makes the
#: roles in Main eligible for Vision is built once (pytest may build ``world`` again when it comes back to an env)
_ROLES_OF_ENV: dict[str, tuple[Platform, dict[str, Any]]] = {}


def _roles_shared(w: World) -> dict[str, Any]:
    cached = _ROLES_OF_ENV.get(w.p.env)
    if cached is None or cached[0] is not w.p:
        _ROLES_OF_ENV[w.p.env] = cached = (w.p, {})
    return cached[1]


async def _fresh_window(w: World) -> str:
    """A pick window of its own: the calendar closes a fresh season (its own year), which opens the window for
    the next season (and closes the one open before). Nobody has picked anything in it yet: the season id."""
    season_id, _ = await _season(w, "closed")
    await settle(w.p)
    window = await _as_admin(w, "GET", "/v1/roles/window")
    expected = f"{season_id[:4]}-autumn"
    assert (window["status"], window["season_id"]) == ("open", expected), window
    return expected


async def _open_window(w: World) -> None:
    """Some window open (the last one the calendar's builders or ours opened), or a fresh one."""
    if (await _as_admin(w, "GET", "/v1/roles/window"))["status"] != "open":
        await _fresh_window(w)


async def _roles_group(w: World, name: str, *roles: str, asker: bool = False) -> str:
    """A working group of the admin's (its coordinator, so in it) joined by ``roles`` (and the asker), one per env."""
    shared = _roles_shared(w)
    if name not in shared:
        group_id = await _working_group(w, joining="open")
        tokens = [w.tokens[role] for role in roles] + ([(await _asker(w))[1]] if asker else [])
        for token in tokens:
            await _as(w.p, token, "POST", f"/v1/groups/{group_id}/join", {})
        await settle(w.p)  # the roles service knows a group's members from its own read model
        shared[name] = group_id
    return shared[name]


async def _pick_group(w: World) -> str:
    """The group picks are made in: the member and the asker joined it; the moderator is not in it."""
    return await _roles_group(w, "pick_group", "member", asker=True)


async def _vision_history(w: World) -> None:
    """Roles of all three qualities but Vision held in two earlier seasons by the roles in Main and the asker:
    then a Vision role (10–12) is theirs to pick, and its refusals are about who asks, not about history."""
    shared = _roles_shared(w)
    if shared.get("history"):
        return
    group_id = await _roles_group(w, "history_group", "member", "moderator", asker=True)
    tokens = [w.tokens["member"], w.tokens["moderator"], w.admin, (await _asker(w))[1]]
    for roles in ((1, 4), (7,)):  # Awareness and Expertise in one season, Systemic thinking in the next
        await _fresh_window(w)
        for role in roles:
            await _as_admin(w, "PUT", f"/v1/groups/{group_id}/roles/{role}/capacity", {"capacity": len(tokens)})
            for token in tokens:
                await _as(w.p, token, "PUT", f"/v1/groups/{group_id}/roles/{role}/pick")
    shared["history"] = True


def roles_read(url: str, group: bool = False) -> Builder:
    """A read of the roles (``{group_id}``: the pick group's) while a window is open."""

    async def build(w: World) -> Call:
        await _open_window(w)
        return Call("GET", url.format(group_id=await _pick_group(w) if group else ""))

    return build


async def _group_pick(w: World) -> Call:
    """Role 1 of the pick group in a fresh window: the member and the admin are in the group, the moderator not."""
    group_id = await _pick_group(w)
    await _fresh_window(w)
    return Call("PUT", f"/v1/groups/{group_id}/roles/1/pick")


async def _group_pick_taken_away(w: World) -> Call:
    """The asker's pick of role 1 in the pick group, given up in their name (a fresh window)."""
    group_id = await _pick_group(w)
    member_id, token = await _asker(w)
    await _fresh_window(w)
    await _as(w.p, token, "PUT", f"/v1/groups/{group_id}/roles/1/pick")
    return Call("DELETE", f"/v1/groups/{group_id}/roles/1/pick?member_id={member_id}")


async def _group_capacity(w: World) -> Call:
    group_id = await _pick_group(w)
    await _open_window(w)
    return Call("PUT", f"/v1/groups/{group_id}/roles/2/capacity", {"capacity": 3})


async def _coordination_pick(w: World) -> Call:
    """Vision role 10 in a fresh window, the roles in Main eligible by their history."""
    await _vision_history(w)
    await _fresh_window(w)
    return Call("PUT", "/v1/roles/coordination/10/pick")


async def _own_coordination_pick_given_up(w: World) -> Call:
    """Role 10 held by each role in Main (three places) in a fresh window: the caller gives up their own."""
    await _vision_history(w)
    await _fresh_window(w)
    await _as_admin(w, "PUT", "/v1/roles/coordination/10/capacity", {"capacity": 3})
    for role in ("member", "moderator", "admin"):
        await _as(w.p, w.tokens[role], "PUT", "/v1/roles/coordination/10/pick")
    return Call("DELETE", "/v1/roles/coordination/10/pick")


async def _coordination_capacity(w: World) -> Call:
    await _open_window(w)
    return Call("PUT", "/v1/roles/coordination/11/capacity", {"capacity": 2})


async def _someone_elses_map(w: World) -> Call:
    """The asker's development map: seasons of roles held."""
    await _vision_history(w)
    return Call("GET", f"/v1/members/{(await _asker(w))[0]}/development-map")


# ------------------------------------------------------------------ the feedback's worlds


FEEDBACK_BODY = {**FEEDBACK_PARTS, "quality": "expertise", "role": 5}


async def _feedback_observer(w: World) -> tuple[str, str]:
    """A member of Main holding the observer role, someone else than the roles: (member_id, token), one per env.
    The roles in Main hold the observer role too (set once): whether they write is their assignment to the game."""
    if "feedback_observer" not in w.shared:
        member_id, email, _ = await make_member(w.p, w.admin)
        await _as_admin(w, "PUT", f"/v1/members/{member_id}/roles", {"roles": ["observer"]})
        for role, roles in (("member", ["observer"]), ("moderator", ["moderator", "observer"]),
                            ("admin", ["admin", "observer"])):
            await _as_admin(w, "PUT", f"/v1/members/{w.ids[role]}/roles", {"roles": roles})
        await settle(w.p)  # the feedback service resolves an observer's roles from its own read model
        w.shared["feedback_observer"] = (member_id, (await login(w.p, email, PASSWORD))["access_token"])
    return w.shared["feedback_observer"]


@dataclass
class FeedbackGame:
    game_id: str
    #: the teams in it, by name: ``other`` (someone else's), ``roles`` (the member's and the admin's)
    teams: dict[str, str]
    #: the piece the shared observer wrote for ``written_for``'s team in round 1 (published if the round closed)
    feedback_id: str | None = None

    @property
    def url(self) -> str:
        return f"/v1/games/{self.game_id}"


async def _feedback_game(w: World, teams: tuple[str, ...] = (), observers: tuple[str, ...] = (),
                         round_: str | None = None, written_for: str | None = None) -> FeedbackGame:
    """A fresh game of an open season hosted by the asker (no role is its host), with ``teams`` confirmed by the
    calendar (``other``, ``roles``), ``observers`` assigned (roles, or ``observer``: the shared observer, assigned
    whenever one writes), round 1 ``open`` or ``closed``, with the shared observer's piece for ``written_for``."""
    observer_id, observer_token = await _feedback_observer(w)
    host_id, _ = await _asker(w)
    season_id, [event_id] = await _season(w, "open", host_id=host_id, **{**GAME, "capacity": 2})
    url = f"/v1/seasons/{season_id}/events/{event_id}/teams"
    named = {"other": (await _other_teams(w))[0], "roles": await _roles_team(w)}
    for name in teams:
        await _apply(w, url, named[name])
        await _as_admin(w, "POST", f"{url}/{named[name][0]}/confirm")
    await settle(w.p)  # the game and its teams come by the calendar's events
    game = FeedbackGame(event_id, {name: named[name][0] for name in teams})
    assert [t["group_id"] for t in (await _as_admin(w, "GET", game.url))["teams"]] == sorted(game.teams.values())
    ids = [observer_id if who == "observer" else w.ids[who]
           for who in (*observers, *(("observer",) if written_for else ()))]
    for member_id in dict.fromkeys(ids):
        await _as_admin(w, "PUT", f"{game.url}/observers/{member_id}")
    if round_:
        await _as_admin(w, "POST", f"{game.url}/rounds")
    if written_for:
        piece = f"{game.url}/rounds/1/teams/{game.teams[written_for]}/feedback"
        game.feedback_id = (await _as(w.p, observer_token, "PUT", piece, FEEDBACK_BODY))["feedback_id"]
    if round_ == "closed":
        await _as_admin(w, "POST", f"{game.url}/rounds/close")
        await settle(w.p)  # the round's closing publishes its pieces (a policy)
    return game


async def _shared_feedback_game(w: World) -> FeedbackGame:
    """One game per env for the reads: both teams, round 1 closed with the observer's piece for the other team."""
    if "feedback_game" not in w.shared:
        w.shared["feedback_game"] = await _feedback_game(w, ("other", "roles"), round_="closed", written_for="other")
    return w.shared["feedback_game"]


def feedback_read(template: str) -> Builder:
    """A read of the shared game (``{game_id}``; ``{group_id}``: the other team's, the member's team is not it)."""

    async def build(w: World) -> Call:
        game = await _shared_feedback_game(w)
        return Call("GET", template.format(game_id=game.game_id, group_id=game.teams["other"]))

    return build


async def _observer_assigned(w: World) -> Call:
    game = await _feedback_game(w)
    return Call("PUT", f"{game.url}/observers/{(await _feedback_observer(w))[0]}")


async def _observer_taken_off(w: World) -> Call:
    game = await _feedback_game(w, observers=("observer",))
    return Call("DELETE", f"{game.url}/observers/{(await _feedback_observer(w))[0]}")


async def _round_opened(w: World) -> Call:
    return Call("POST", (await _feedback_game(w, ("other",))).url + "/rounds")


async def _round_closed(w: World) -> Call:
    return Call("POST", (await _feedback_game(w, ("other",), round_="open")).url + "/rounds/close")


async def _feedback_written(w: World) -> Call:
    """The other team's feedback in round 1 (open): the member and the admin assigned, the moderator, an observer
    too, not; each writes their own piece (its id is the game's, the round's, the team's and the writer's)."""
    game = await _feedback_game(w, ("other",), observers=("member", "admin"), round_="open")
    return Call("PUT", f"{game.url}/rounds/1/teams/{game.teams['other']}/feedback", FEEDBACK_BODY)


async def _feedback_marked(w: World) -> Call:
    """A piece published to the roles' team (the member and the admin on its roster; the moderator not)."""
    game = await _feedback_game(w, ("roles",), round_="closed", written_for="roles")
    return Call("PUT", f"/v1/feedback/{game.feedback_id}/mark", {"useful": True, "intention": "Спрошу каждого"})


async def _help_request(w: World, token: str, route: bool = False) -> str:
    """A fresh request asked with ``token`` (routed to the shared observer, an expert): its url."""
    url = "/v1/help-requests/" + (await _as(w.p, token, "POST", "/v1/help-requests", HELP_BODY))["request_id"]
    if route:
        await _as_admin(w, "POST", url + "/route", {"expert_id": (await _feedback_observer(w))[0]})
    return url


def on_help_request(suffix: str = "", json: Any = None, route: bool = False, own: bool = False) -> Builder:
    """``suffix`` of a fresh request of the asker's (someone else's), or of the member's (``own``)."""

    async def build(w: World) -> Call:
        url = await _help_request(w, w.tokens["member"] if own else (await _asker(w))[1], route)
        return Call("GET" if not suffix else "POST", url + suffix, json)

    return build


async def _help_routed(w: World) -> Call:
    """A fresh request of the asker's, routed to the shared observer (an expert in Main)."""
    url = await _help_request(w, (await _asker(w))[1])
    return Call("POST", url + "/route", {"expert_id": (await _feedback_observer(w))[0]})


#: a valid request for each operation; builders may create what the request needs (as the admin)
REQUESTS: dict[tuple[str, str], Builder] = {
    ("POST", "/v1/auth/token"): _sign_in,
    ("POST", "/v1/auth/refresh"): _fresh_refresh_token,
    ("POST", "/v1/registrations"): _registration,
    ("GET", "/v1/me"): fixed("GET", "/v1/me"),
    ("POST", "/v1/me/rules-acknowledgement"): fixed("POST", "/v1/me/rules-acknowledgement"),
    ("PUT", "/v1/me/profile"): fixed("PUT", "/v1/me/profile", FULL_PROFILE),
    ("PUT", "/v1/me/visibility"): fixed("PUT", "/v1/me/visibility", {"visible": ["city", "company"]}),
    ("GET", "/v1/colleagues"): fixed("GET", "/v1/colleagues?q=анна"),
    ("GET", "/v1/colleagues/{member_id}"): _colleague,
    ("POST", "/v1/invitations"): fixed("POST", "/v1/invitations", {"max_uses": 1, "expires_in_days": 1}),
    ("GET", "/v1/invitations"): fixed("GET", "/v1/invitations"),
    ("DELETE", "/v1/invitations/{token}"): _revocation,
    ("GET", "/v1/invitations/{token}"): _invitation_check,
    ("GET", "/v1/moderation/queue"): fixed("GET", "/v1/moderation/queue"),
    ("POST", "/v1/moderation/{member_id}/decision"): _decision,
    ("GET", "/v1/moderation/{member_id}/history"): bystander("GET", "/v1/moderation/{member_id}/history"),
    ("GET", "/v1/groups/{group_id}/members"): fixed("GET", "/v1/groups/main/members"),
    ("POST", "/v1/groups"): fixed("POST", "/v1/groups", {"title": "Исследование", "group_type": "research"}),
    ("GET", "/v1/groups"): fixed("GET", "/v1/groups?q=матрица&group_type=research"),
    ("GET", "/v1/groups/{group_id}"): working("GET", "/v1/groups/{group_id}"),
    ("POST", "/v1/groups/{group_id}/decision"): working("POST", "/v1/groups/{group_id}/decision",
                                                        {"decision": "approve"}, direct=False),
    ("PUT", "/v1/groups/{group_id}/settings"): working("PUT", "/v1/groups/{group_id}/settings",
                                                       {"visibility": "members", "content": "main", "joining": "open"}),
    ("POST", "/v1/groups/{group_id}/archive"): working("POST", "/v1/groups/{group_id}/archive"),
    ("POST", "/v1/groups/{group_id}/join"): working("POST", "/v1/groups/{group_id}/join", {}, joining="open"),
    ("GET", "/v1/groups/{group_id}/requests"): working("GET", "/v1/groups/{group_id}/requests"),
    ("POST", "/v1/groups/{group_id}/requests/{member_id}/decision"): _join_request_decision,
    ("POST", "/v1/groups/{group_id}/invitations"): _invitation,
    ("POST", "/v1/groups/{group_id}/invitations/accept"): _acceptance,
    ("POST", "/v1/groups/{group_id}/leave"): working("POST", "/v1/groups/{group_id}/leave"),
    ("POST", "/v1/groups/{group_id}/requests/mine/withdraw"): working(
        "POST", "/v1/groups/{group_id}/requests/mine/withdraw"),
    ("POST", "/v1/groups/{group_id}/invitations/decline"): working("POST", "/v1/groups/{group_id}/invitations/decline"),
    ("DELETE", "/v1/groups/{group_id}/members/{member_id}"): working(
        "DELETE", "/v1/groups/{group_id}/members/{member_id}?reason=спам"),
    ("PUT", "/v1/groups/{group_id}/coordinators/{member_id}"): _appointment,
    ("DELETE", "/v1/groups/{group_id}/coordinators/{member_id}"): working(
        "DELETE", "/v1/groups/{group_id}/coordinators/{member_id}"),
    ("GET", "/v1/groups/map"): fixed("GET", "/v1/groups/map"),
    ("GET", "/v1/groups/map.svg"): fixed("GET", "/v1/groups/map.svg"),
    ("GET", "/v1/groups/{group_id}/calls"): working("GET", "/v1/groups/{group_id}/calls"),
    ("POST", "/v1/groups/{group_id}/calls"): _call_scheduling,
    ("DELETE", "/v1/groups/{group_id}/calls/{call_id}"): _call_cancellation,
    ("GET", "/v1/announcements"): fixed("GET", "/v1/announcements"),
    ("POST", "/v1/announcements"): fixed("POST", "/v1/announcements", {"title": "Всем", "body": "Привет"}),
    ("DELETE", "/v1/announcements/{announcement_id}"): _withdrawal,
    ("GET", "/v1/groups/{group_id}/messages"): working("GET", "/v1/groups/{group_id}/messages?limit=10"),
    ("GET", "/v1/groups/{group_id}/messages/search"): working("GET", "/v1/groups/{group_id}/messages/search?q=матр"),
    ("POST", "/v1/groups/{group_id}/messages"): working("POST", "/v1/groups/{group_id}/messages", {"text": "Привет"}),
    ("PUT", "/v1/groups/{group_id}/messages/{message_id}"): admins_message("PUT", json={"text": "Правка"}),
    ("DELETE", "/v1/groups/{group_id}/messages/{message_id}"): admins_message("DELETE"),
    ("PUT", "/v1/groups/{group_id}/messages/{message_id}/reactions"): admins_message(
        "PUT", "/reactions", {"reaction": "👍"}),
    ("PUT", "/v1/groups/{group_id}/read"): working("PUT", "/v1/groups/{group_id}/read", {"up_to": 1}),
    ("GET", "/v1/me/unread"): fixed("GET", "/v1/me/unread"),
    ("GET", "/v1/conversations"): fixed("GET", "/v1/conversations"),
    ("GET", "/v1/conversations/{member_id}/messages"): bystander("GET", "/v1/conversations/{member_id}/messages"),
    ("POST", "/v1/conversations/{member_id}/messages"): _personal_message,
    ("PUT", "/v1/conversations/{member_id}/read"): bystander_with("PUT", "/v1/conversations/{member_id}/read",
                                                                  {"up_to": 1}),
    ("PUT", "/v1/blocks/{member_id}"): bystander("PUT", "/v1/blocks/{member_id}"),
    ("DELETE", "/v1/blocks/{member_id}"): bystander("DELETE", "/v1/blocks/{member_id}"),
    # bounded: the stream ends by itself after a fraction of a second
    ("GET", "/v1/stream"): fixed("GET", "/v1/stream?max_seconds=0.2"),
    ("GET", "/v1/groups/{group_id}/tasks"): working("GET", "/v1/groups/{group_id}/tasks"),
    ("POST", "/v1/groups/{group_id}/tasks"): working("POST", "/v1/groups/{group_id}/tasks", {"title": "Задача"}),
    ("GET", "/v1/groups/{group_id}/tasks/{task_id}"): admins_task("GET"),
    ("PUT", "/v1/groups/{group_id}/tasks/{task_id}"): admins_task("PUT", json={"title": "Правка"}),
    ("DELETE", "/v1/groups/{group_id}/tasks/{task_id}"): admins_task("DELETE"),
    ("PUT", "/v1/groups/{group_id}/tasks/{task_id}/assignees"): admins_task("PUT", "/assignees", {"assignees": []}),
    ("PUT", "/v1/groups/{group_id}/tasks/{task_id}/due"): admins_task("PUT", "/due", {"due": "2030-01-15"}),
    ("PUT", "/v1/groups/{group_id}/tasks/{task_id}/status"): admins_task("PUT", "/status", {"status": "done"}),
    ("POST", "/v1/groups/{group_id}/tasks/{task_id}/checklist"): admins_task("POST", "/checklist", {"text": "Ещё"}),
    ("PUT", "/v1/groups/{group_id}/tasks/{task_id}/checklist/{item_id}"): admins_task("PUT", json={"checked": True},
                                                                                      item=True),
    ("DELETE", "/v1/groups/{group_id}/tasks/{task_id}/checklist/{item_id}"): admins_task("DELETE", item=True),
    ("POST", "/v1/groups/{group_id}/tasks/{task_id}/comments"): admins_task("POST", "/comments", {"text": "Ок"}),
    ("GET", "/v1/groups/{group_id}/files"): working("GET", "/v1/groups/{group_id}/files"),
    ("POST", "/v1/groups/{group_id}/files"): _upload,
    ("GET", "/v1/groups/{group_id}/files/{file_id}"): admins_file("GET", "/v1/groups/{group_id}/files/{file_id}"),
    ("PATCH", "/v1/groups/{group_id}/files/{file_id}"): admins_file("PATCH", "/v1/groups/{group_id}/files/{file_id}", {"name": "новое.txt"}),
    ("DELETE", "/v1/groups/{group_id}/files/{file_id}"): admins_file("DELETE", "/v1/groups/{group_id}/files/{file_id}"),
    ("GET", "/v1/groups/{group_id}/files/{file_id}/content"): admins_file("GET", "/v1/groups/{group_id}/files/{file_id}/content"),
    ("GET", "/v1/groups/{group_id}/files/{file_id}/versions/{version}/content"): admins_file("GET", "/v1/groups/{group_id}/files/{file_id}/versions/1/content"),
    ("POST", "/v1/groups/{group_id}/files/{file_id}/versions"): admins_file("POST", "/v1/groups/{group_id}/files/{file_id}/versions", content=b"v2"),
    ("POST", "/v1/groups/{group_id}/files/{file_id}/restore"): admins_file("POST", "/v1/groups/{group_id}/files/{file_id}/restore", binned=True),
    ("DELETE", "/v1/groups/{group_id}/bin/{file_id}"): admins_file("DELETE", "/v1/groups/{group_id}/bin/{file_id}",
                                                                   binned=True),
    ("GET", "/v1/me/tasks"): fixed("GET", "/v1/me/tasks"),
    ("GET", "/v1/seasons"): fixed("GET", "/v1/seasons"),
    ("POST", "/v1/seasons"): _season_start,
    ("GET", "/v1/seasons/{season_id}"): season_call("GET", phase="open", shared=True),
    ("POST", "/v1/seasons/{season_id}/open"): season_call("POST", "/open"),
    ("POST", "/v1/seasons/{season_id}/close"): season_call("POST", "/close", phase="open"),
    ("POST", "/v1/seasons/{season_id}/results"): season_call("POST", "/results", phase="closed"),
    ("GET", "/v1/seasons/{season_id}/requests"): season_call("GET", "/requests", shared=True),
    ("POST", "/v1/seasons/{season_id}/requests"): season_call("POST", "/requests", REQUEST_BODY, shared=True),
    ("POST", "/v1/seasons/{season_id}/requests/{request_id}/support"): on_request("support", by_asker=True),
    ("POST", "/v1/seasons/{season_id}/requests/{request_id}/accept"): on_request("accept"),
    ("POST", "/v1/seasons/{season_id}/requests/{request_id}/merge"): on_request("merge"),
    ("POST", "/v1/seasons/{season_id}/requests/{request_id}/decline"): on_request("decline",
                                                                                   {"reason": "Тема уже была"}),
    ("GET", "/v1/seasons/{season_id}/events"): season_call("GET", "/events", phase="open", shared=True),
    ("POST", "/v1/seasons/{season_id}/events"): season_call(
        "POST", "/events", lambda season_id, w: plan(season_id, w.ids["admin"]), events=0),
    ("GET", "/v1/seasons/{season_id}/events/{event_id}"): season_call("GET", "/events/{event_id}", phase="open",
                                                                      shared=True),
    ("PUT", "/v1/seasons/{season_id}/events/{event_id}"): season_call(
        "PUT", "/events/{event_id}", lambda season_id, w: plan(season_id, w.ids["admin"], title="Перенос", day=20)),
    ("DELETE", "/v1/seasons/{season_id}/events/{event_id}"): season_call("DELETE", "/events/{event_id}"),
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/cancel"): season_call(
        "POST", "/events/{event_id}/cancel", {"reason": "Ведущий заболел"}, phase="open"),
    ("PUT", "/v1/seasons/{season_id}/events/{event_id}/registration"): season_call(
        "PUT", "/events/{event_id}/registration", phase="open"),
    ("DELETE", "/v1/seasons/{season_id}/events/{event_id}/registration"): _own_place_given_up,
    ("DELETE", "/v1/seasons/{season_id}/events/{event_id}/registrations/{member_id}"): _place_taken_away,
    ("GET", "/v1/seasons/{season_id}/results"): season_call("GET", "/results", phase="published", shared=True),
    ("PUT", "/v1/seasons/{season_id}/events/{event_id}/attendance"): _attendance,
    ("GET", "/v1/seasons/{season_id}/events/{event_id}/teams"): on_team("", "confirmed"),
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/teams"): _team_application,
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/teams/{group_id}/confirm"): on_team("confirm", "pending"),
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/teams/{group_id}/decline"): on_team(
        "decline", "pending", {"reason": "Состав не готов"}),
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/teams/{group_id}/withdraw"): on_team("withdraw", "confirmed"),
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/teams/{group_id}/accept"): on_team("accept", "offered",
                                                                                         roles=True),
    ("POST", "/v1/seasons/{season_id}/events/{event_id}/teams/{group_id}/pass"): on_team("pass", "offered"),
    ("GET", "/v1/seasons/{season_id}/research"): research("GET", task=True, offers=("asker",)),
    ("POST", "/v1/seasons/{season_id}/research/tasks"): research("POST", "/tasks", RESEARCH_TASK),
    ("DELETE", "/v1/seasons/{season_id}/research/tasks/{task_id}"): research("DELETE", "/tasks/{task_id}",
                                                                             task=True),
    ("PUT", "/v1/seasons/{season_id}/research/offer"): research("PUT", "/offer", {"hours": 12}),
    ("DELETE", "/v1/seasons/{season_id}/research/offer"): research("DELETE", "/offer",
                                                                   offers=("member", "moderator", "admin")),
    ("DELETE", "/v1/seasons/{season_id}/research/offers/{member_id}"): research("DELETE", "/offers/{member_id}",
                                                                                offers=("asker",)),
    ("POST", "/v1/seasons/{season_id}/research/distribute"): research("POST", "/distribute", task=True,
                                                                      offers=("asker",)),
    ("POST", "/v1/seasons/{season_id}/research/reopen"): research("POST", "/reopen", task=True, offers=("asker",),
                                                                  distributed=True),
    ("GET", "/v1/me/calendar"): fixed("GET", "/v1/me/calendar"),
    ("GET", "/v1/me/calendar/links"): fixed("GET", "/v1/me/calendar/links"),
    ("POST", "/v1/me/calendar/links"): fixed("POST", "/v1/me/calendar/links"),
    ("GET", "/v1/calendar/feeds/{member_id}/{token}/personal.ics"): feed("personal"),
    ("GET", "/v1/calendar/feeds/{member_id}/{token}/seasons/{season_id}.ics"): feed("season"),
    ("GET", "/v1/calendar/feeds/{member_id}/{token}/groups/{group_id}.ics"): feed("group"),
    ("GET", "/v1/roles"): fixed("GET", "/v1/roles"),
    ("GET", "/v1/roles/window"): roles_read("/v1/roles/window"),
    ("GET", "/v1/groups/{group_id}/roles"): roles_read("/v1/groups/{group_id}/roles", group=True),
    ("GET", "/v1/groups/{group_id}/roles/coverage.svg"): roles_read("/v1/groups/{group_id}/roles/coverage.svg",
                                                                    group=True),
    ("PUT", "/v1/groups/{group_id}/roles/{role}/pick"): _group_pick,
    ("DELETE", "/v1/groups/{group_id}/roles/{role}/pick"): _group_pick_taken_away,
    ("PUT", "/v1/groups/{group_id}/roles/{role}/capacity"): _group_capacity,
    ("GET", "/v1/roles/coordination"): roles_read("/v1/roles/coordination"),
    ("PUT", "/v1/roles/coordination/{role}/pick"): _coordination_pick,
    ("DELETE", "/v1/roles/coordination/{role}/pick"): _own_coordination_pick_given_up,
    ("PUT", "/v1/roles/coordination/{role}/capacity"): _coordination_capacity,
    ("GET", "/v1/me/roles"): roles_read("/v1/me/roles"),
    ("GET", "/v1/me/roles/map.svg"): roles_read("/v1/me/roles/map.svg"),
    ("GET", "/v1/members/{member_id}/development-map"): _someone_elses_map,
    ("GET", "/v1/games"): fixed("GET", "/v1/games"),
    ("GET", "/v1/games/{game_id}"): feedback_read("/v1/games/{game_id}"),
    ("PUT", "/v1/games/{game_id}/observers/{observer_id}"): _observer_assigned,
    ("DELETE", "/v1/games/{game_id}/observers/{observer_id}"): _observer_taken_off,
    ("POST", "/v1/games/{game_id}/rounds"): _round_opened,
    ("POST", "/v1/games/{game_id}/rounds/close"): _round_closed,
    ("PUT", "/v1/games/{game_id}/rounds/{round_no}/teams/{group_id}/feedback"): _feedback_written,
    ("GET", "/v1/games/{game_id}/teams/{group_id}/feedback"): feedback_read("/v1/games/{game_id}/teams/{group_id}/feedback"),
    ("PUT", "/v1/feedback/{feedback_id}/mark"): _feedback_marked,
    ("POST", "/v1/feedback/check"): fixed("POST", "/v1/feedback/check", FEEDBACK_PARTS),
    ("GET", "/v1/me/feedback"): fixed("GET", "/v1/me/feedback"),
    ("GET", "/v1/me/feedback/owed"): fixed("GET", "/v1/me/feedback/owed"),
    ("POST", "/v1/help-requests/check"): fixed("POST", "/v1/help-requests/check",
                                                {k: v for k, v in HELP_BODY.items() if k != "title"}),
    ("POST", "/v1/help-requests"): fixed("POST", "/v1/help-requests", HELP_BODY),
    ("GET", "/v1/help-requests"): fixed("GET", "/v1/help-requests?scope=queue"),
    ("GET", "/v1/help-requests/{request_id}"): on_help_request(),
    ("POST", "/v1/help-requests/{request_id}/route"): _help_routed,
    ("POST", "/v1/help-requests/{request_id}/decline"): on_help_request("/decline", {"reason": "Не по теме"}),
    ("POST", "/v1/help-requests/{request_id}/messages"): on_help_request(
        "/messages", {"text": "Давайте обсудим"}, route=True),
    ("POST", "/v1/help-requests/{request_id}/close"): on_help_request(
        "/close", {"outcome": "План запущен", "helped": "yes"}, route=True, own=True),
    ("GET", "/v1/members"): fixed("GET", "/v1/members?status=member&limit=5"),
    ("GET", "/v1/members/{member_id}"): bystander("GET", "/v1/members/{member_id}"),
    ("PUT", "/v1/members/{member_id}/roles"): _set_roles,
    ("DELETE", "/v1/members/{member_id}"): _erasure,
    ("GET", "/v1/notifications"): told("GET", "/v1/notifications?unread_only=true"),
    ("POST", "/v1/notifications/read"): told("POST", "/v1/notifications/read", {}),
    ("GET", "/v1/me/notification-preferences"): fixed("GET", "/v1/me/notification-preferences"),
    ("PUT", "/v1/me/notification-preferences"): fixed("PUT", "/v1/me/notification-preferences", {
        "channels": {"mention": "in_app", "pick_window_opened": "off"}, "language": "en",
        "time_zone": "Europe/Moscow", "quiet_hours": {"starts": "23:00", "ends": "07:30"}}),
    ("GET", "/v1/notifications/unsubscribe"): unsubscribe_link("GET"),
    ("POST", "/v1/notifications/unsubscribe"): unsubscribe_link("POST"),
    ("POST", "/v1/me/data"): fixed("POST", "/v1/me/data"),
    ("GET", "/v1/me/data"): fixed("GET", "/v1/me/data"),
    ("GET", "/v1/me/data/export.json"): _every_roles_data_ready,
    ("POST", "/v1/me/consent/withdrawal"): fixed("POST", "/v1/me/consent/withdrawal", {"confirmation": "нет"}),
    ("GET", "/healthz"): fixed("GET", "/healthz"),
    ("GET", "/readyz"): fixed("GET", "/readyz"),
    ("GET", "/asyncapi.json"): fixed("GET", "/asyncapi.json"),
}


@pytest.fixture(scope="module")
async def world(secured) -> World:
    """For each env (with ``secured``): built again when pytest comes back to an env in this module."""
    platform, actors = secured
    return World(platform, actors["admin"].token, await new_guest(platform, actors["admin"].token),
                 {role: a.member_id for role, a in actors.items()}, {role: a.token for role, a in actors.items()})


def test_every_operation_has_a_row_and_no_row_is_stale():
    assert OPERATIONS, "the OpenAPI document lists no operations"
    missing = [op for op in OPERATIONS if op not in EXPECTED or op not in REQUESTS]
    assert not missing, f"new endpoints without a row in the permission matrix: {missing}"
    stale = sorted(set(EXPECTED) - set(OPERATIONS))
    assert not stale, f"rows for endpoints that no longer exist: {stale}"


async def test_the_live_gateway_serves_the_same_operations(platform):
    async with platform.client() as c:
        live = (await c.get("/openapi.json")).json()["paths"]
    assert sorted((m.upper(), p) for p, item in live.items() for m in item) == OPERATIONS


def test_production_serves_the_same_operations(production_platform):
    """It serves no document to ask, so its app is asked: the matrix's rows are those of production too."""
    document = production_platform._app.openapi()  # built on demand, whether served or not
    assert sorted((m.upper(), p) for p, item in document["paths"].items() for m in item) == OPERATIONS


def assert_problem(r, status: int) -> dict:
    assert r.headers["content-type"].startswith("application/problem+json"), (r.request.url, r.headers)
    body = r.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["code"], str) and body["code"]
    assert body["type"].endswith("/" + body["code"])
    return body


#: cells where the service answers otherwise than its rule, each with the diagnosis: expected to fail
#: (strictly: once the service is fixed, the cell passes and its entry here must go). The earlier ones are fixed:
#: a guest giving up a place they never had got the event's view; a guest read the roles' matrix (get_matrix
#: checked signed_in, not the community's members)
KNOWN_SERVICE_BUGS: dict[tuple[tuple[str, str], str], str] = {}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op[0]} {op[1]}")
async def test_permission_matrix(secured, world, operation, role, request):
    platform, actors = secured
    if (operation, role) in KNOWN_SERVICE_BUGS:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_SERVICE_BUGS[operation, role], strict=True))
    assert operation in EXPECTED and operation in REQUESTS, f"no row in the permission matrix for {operation}"
    expected = expected_row(platform.env, operation)[role]
    call = world.untouched.pop(operation, None) or await REQUESTS[operation](world)
    before = await settled_position(platform)
    async with platform.client(actors[role].token) as c:
        body = {"content": call.content} if call.content is not None else {"json": call.json}
        r = await c.request(call.method, call.url, **body)
    assert r.status_code == expected, f"{platform.env} {role} {call.method} {call.url}: {r.status_code} {r.text}"
    if r.status_code >= 400:
        body = assert_problem(r, expected)
        assert body["code"] in REFUSAL_CODES[expected], body
        assert body["code"] == REFUSED_BY.get((operation, role), body["code"]), body
        assert await settled_position(platform) == before, f"a refused {call.method} {call.url} appended to the log"
        world.untouched[operation] = call


@pytest.mark.parametrize("role", ["guest", "member"])
async def test_a_member_reads_their_own_record_but_no_one_elses(secured, world, role):
    platform, actors = secured
    me = actors[role]
    async with platform.client(me.token) as c:
        own = await c.get(f"/v1/members/{me.member_id}")
        other = await c.get(f"/v1/members/{world.bystander.member_id}")
    assert own.status_code == 200 and own.json()["member_id"] == me.member_id
    assert other.status_code == 403 and assert_problem(other, 403)["code"] == "not_your_profile"


async def test_a_guest_sees_introduction_but_not_main(secured):
    platform, actors = secured
    await settle(platform)
    async with platform.client(actors["guest"].token) as c:
        intro = await c.get("/v1/groups/introduction/members")
        main = await c.get("/v1/groups/main/members")
    assert intro.status_code == 200
    assert actors["guest"].member_id in [i["member_id"] for i in intro.json()["items"]]
    assert main.status_code == 403 and assert_problem(main, 403)["code"] == "not_a_group_member"


async def test_a_moderator_cannot_make_anyone_admin_and_nothing_changes(secured, world):
    platform, actors = secured
    await settle(platform)
    before = await log_position(platform)
    async with platform.client(actors["moderator"].token) as c:
        r = await c.put(f"/v1/members/{actors['moderator'].member_id}/roles", json={"roles": ["admin"]})
    assert r.status_code == 403 and assert_problem(r, 403)["code"] == "admin_only"
    await settle(platform)
    assert await log_position(platform) == before


#: a genuine link made over: its signature forged, or kept while the member or the kind changes, or taken from
#: another member's link, or made with another secret (development's, in production)
FORGERIES = ("signature", "member", "kind", "anothers_signature", "another_secret")


def _forged(forgery: str, secret: str, member_id: str, other_id: str) -> str:
    genuine = unsubscribe_token(secret, member_id, "event_changed")
    signature = genuine.rsplit(".", 1)[1]
    match forgery:
        case "signature":
            return f"{member_id}.event_changed.{signature[::-1]}"
        case "member":
            return f"{other_id}.event_changed.{signature}"
        case "kind":
            return f"{member_id}.event_cancelled.{signature}"
        case "anothers_signature":
            return f"{member_id}.event_changed.{unsubscribe_token(secret, other_id, 'event_changed').rsplit('.', 1)[1]}"
        case "another_secret":
            return unsubscribe_token("hrm-notifications-unsubscribe-development-secret"
                                     if secret != "hrm-notifications-unsubscribe-development-secret"
                                     else "some-other-secret", member_id, "event_changed")
    raise ValueError(forgery)


async def _channel_of(p: Platform, token: str, kind: str) -> str:
    async with p.client(token) as c:
        r = await c.get("/v1/me/notification-preferences")
    assert r.status_code == 200, r.text
    return next(k["channel"] for k in r.json()["kinds"] if k["kind"] == kind)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("role", ["anonymous", "member"])
@pytest.mark.parametrize("forgery", FORGERIES)
async def test_a_forged_unsubscribe_link_is_refused_in_russian_and_changes_nothing(secured, world, forgery, role,
                                                                                   method):
    """The link is the only credential: made over for another member or kind, or with a signature not the
    service's, it is refused (422 unsubscribe_link_invalid, in Russian unless asked otherwise), to a stranger and
    to a member signed in alike, and nobody's preferences change."""
    platform, actors = secured
    target = await new_guest(platform, world.admin)
    assert target.member_id and world.bystander.member_id
    token = _forged(forgery, unsubscribe_secret(platform), target.member_id, world.bystander.member_id)
    await settle(platform)
    before = await log_position(platform)
    async with platform.client(actors[role].token) as c:
        r = await c.request(method, "/v1/notifications/unsubscribe", params={"token": token})
    assert r.status_code == 422, (forgery, r.status_code, r.text)
    body = assert_problem(r, 422)
    assert body["code"] == "unsubscribe_link_invalid", body
    assert r.headers["content-language"] == "ru" and re.search("[а-яё]", body["title"]), body
    await settle(platform)
    assert await log_position(platform) == before, f"a forged link ({forgery}) appended to the log"
    for who in (target, world.bystander):
        assert await _channel_of(platform, who.token or "", "event_changed") == "email_now"
        assert await _channel_of(platform, who.token or "", "event_cancelled") == "email_now"


async def test_a_genuine_unsubscribe_link_turns_off_its_kind_of_its_member_only(secured, world):
    """Anyone holding the link (a mail scanner's GET changes nothing; the POST does) turns off that one kind of
    that one member; the same link again changes nothing more."""
    platform, _ = secured
    target = await new_guest(platform, world.admin)
    assert target.member_id and target.token
    token = unsubscribe_token(unsubscribe_secret(platform), target.member_id, "event_changed")
    await settle(platform)
    before = await log_position(platform)
    async with platform.client() as c:
        looked = await c.get("/v1/notifications/unsubscribe", params={"token": token})
        await settle(platform)
        assert looked.status_code == 200 and looked.json()["channel"] == "email_now", looked.text
        assert await log_position(platform) == before, "reading what a link turns off appended to the log"
        done = await c.post("/v1/notifications/unsubscribe", params={"token": token})
        assert done.status_code == 200 and done.json()["channel"] == "off", done.text
        await settle(platform)
        after = await log_position(platform)
        assert after == before + 1
        again = await c.post("/v1/notifications/unsubscribe", params={"token": token})
        assert again.status_code == 200 and again.json()["channel"] == "off", again.text
    await settle(platform)
    assert await log_position(platform) == after
    assert await _channel_of(platform, target.token, "event_changed") == "off"
    assert await _channel_of(platform, target.token, "event_cancelled") == "email_now"
    assert await _channel_of(platform, world.bystander.token or "", "event_changed") == "email_now"


async def _unread(p: Platform, token: str) -> list[str]:
    async with p.client(token) as c:
        r = await c.get("/v1/notifications", params={"unread_only": "true", "limit": 200})
    assert r.status_code == 200, r.text
    return [i["notification_id"] for i in r.json()["items"]]


@pytest.mark.parametrize("role", ["guest", "moderator", "admin"])
async def test_a_notification_is_listed_and_marked_read_by_its_member_only(secured, world, role):
    """Someone else's notification is no one's to see or to mark read (404 notification_not_found, as for one
    that does not exist), also named beside one's own: the request is refused whole and nothing is marked."""
    platform, actors = secured
    me = actors[role]
    assert me.token and actors["member"].token
    # a fresh unread notification for the member, and one for the caller
    await _as(platform, world.admin, "POST", f"/v1/conversations/{actors['member'].member_id}/messages",
              {"text": "Чужое уведомление"})
    writer = actors["moderator"].token if role == "admin" else world.admin
    assert writer
    await _as(platform, writer, "POST", f"/v1/conversations/{me.member_id}/messages", {"text": "Своё уведомление"})
    await settle(platform)
    theirs = (await _unread(platform, actors["member"].token))[0]
    mine = await _unread(platform, me.token)
    assert mine and theirs not in mine
    await settle(platform)
    before = await log_position(platform)
    async with platform.client(me.token) as c:
        for ids in ([theirs], [mine[0], theirs], [str(uuid.uuid4())]):
            r = await c.post("/v1/notifications/read", json={"notification_ids": ids})
            assert r.status_code == 404, (ids, r.status_code, r.text)
            assert assert_problem(r, 404)["code"] == "notification_not_found"
    await settle(platform)
    assert await log_position(platform) == before, "a refused mark appended to the log"
    assert theirs in await _unread(platform, actors["member"].token)
    assert await _unread(platform, me.token) == mine


@pytest.mark.parametrize("role", ["guest", "member", "moderator", "admin"])
async def test_withdrawing_ones_consent_erases_the_caller_alone(secured, world, role):
    """Confirmed, a withdrawal erases the one who sends it, whatever their role but the admin's (refused 409
    admin_cannot_withdraw: the platform must not lose its admin to a click; nothing appended); the bystander
    is untouched. Each role is a fresh account of its own here: the shared ones must live on."""
    platform, actors = secured
    admin = world.admin
    if role == "guest":
        who = await new_guest(platform, admin)
        me, token = who.member_id, who.token
    elif role == "member":
        me, _, token = await make_member(platform, admin)
    elif role == "moderator":
        token = await make_moderator(platform, admin)
        async with platform.client(token) as c:
            me = (await c.get("/v1/me")).json()["member_id"]
    else:
        me, token = actors["admin"].member_id, actors["admin"].token
    await settle(platform)
    before = await log_position(platform)
    async with platform.client(token) as c:
        r = await c.post("/v1/me/consent/withdrawal", json={"confirmation": "УДАЛИТЬ"})
    await settle(platform)
    if role == "admin":
        assert r.status_code == 409 and assert_problem(r, 409)["code"] == "admin_cannot_withdraw", r.text
        assert await log_position(platform) == before
        return
    assert r.status_code == 200 and r.json()["member_id"] == me, r.text
    async with platform.client(admin) as c:
        assert (await c.get(f"/v1/members/{me}")).status_code == 404
        assert (await c.get(f"/v1/members/{world.bystander.member_id}")).status_code == 200
    async with platform.client() as c:
        r = await c.post("/v1/me/consent/withdrawal", json={"confirmation": "УДАЛИТЬ"})
    assert r.status_code == 401 and assert_problem(r, 401)["code"] == "login_required"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", DOCS_PATHS)
async def test_the_api_documents_are_served_in_development_only(secured, path, role):
    platform, actors = secured
    async with platform.client(actors[role].token) as c:
        r = await c.get(path)
    if platform.env == "development":
        assert r.status_code == 200, (role, path, r.status_code, r.text[:200])
        assert r.headers["content-type"].startswith("application/json" if path.endswith(".json") else "text/html")
    else:
        assert r.status_code == 404, (role, path, r.status_code, r.text[:200])
        body = assert_problem(r, 404)
        assert body["code"] == "not_found"
        assert set(body) <= set(PROBLEM_SCHEMA["properties"]), body  # a problem and nothing of the document


async def _status(p: Platform, token: str, method: str, url: str, json: Any = None) -> tuple[int, str | None]:
    async with p.client(token) as c:
        r = await c.request(method, url, json=json)
    return r.status_code, (assert_problem(r, r.status_code)["code"] if r.status_code >= 400 else None)


async def test_a_teams_feedback_is_its_members_once_published_and_no_other_teams_nor_an_observer_elsewheres(
        secured, world):
    """The member's team (the roles') and another play one game: the observer's draft for the member's team is
    not the team's yet; the other team's coordinator, and an observer not assigned to this game, neither read nor
    write it, nor answer it once published; the team answers it, and keeps reading it after it left the game."""
    platform, actors = secured
    game = await _feedback_game(world, ("other", "roles"), round_="open", written_for="roles")
    team_url = f"{game.url}/teams/{game.teams['roles']}/feedback"
    write_url = f"{game.url}/rounds/1/teams/{game.teams['roles']}/feedback"
    _, _, outsider = (await _other_teams(world))[0]
    stray_id, _, stray = await make_member(platform, world.admin)  # an observer, of no game
    await _as_admin(world, "PUT", f"/v1/members/{stray_id}/roles", {"roles": ["observer"]})
    member = actors["member"].token
    await settle(platform)
    before = await log_position(platform)
    assert (await _as(platform, member, "GET", team_url))["items"] == []  # a draft is its observer's
    for token in (outsider, stray):
        assert await _status(platform, token, "GET", team_url) == (403, "team_members_only")
        assert await _status(platform, token, "PUT", write_url, FEEDBACK_BODY) == (403, "assigned_observers_only")
    await settle(platform)
    assert await log_position(platform) == before
    await _as_admin(world, "POST", f"{game.url}/rounds/close")
    await settle(platform)
    [piece] = (await _as(platform, member, "GET", team_url))["items"]
    assert (piece["feedback_id"], piece["status"]) == (game.feedback_id, "published")
    mark = f"/v1/feedback/{game.feedback_id}/mark"
    before = await log_position(platform)
    for token in (outsider, stray):
        assert await _status(platform, token, "GET", team_url) == (403, "team_members_only")
        assert await _status(platform, token, "PUT", mark, {"useful": True}) == (403, "team_members_only")
    await settle(platform)
    assert await log_position(platform) == before
    assert [m["member_id"] for m in (await _as(platform, member, "PUT", mark, {"useful": True}))["marks"]] == [
        world.ids["member"]]
    assert stray_id not in (await _as(platform, stray, "GET", game.url))["observers"]
    # the team leaves the game (the calendar): its feedback stays its members'
    season = await _season_of(world, game.game_id)
    await _as_admin(world, "POST", f"/v1/seasons/{season}/events/{game.game_id}/teams/{game.teams['roles']}/withdraw")
    await settle(platform)
    assert [i["feedback_id"] for i in (await _as(platform, member, "GET", team_url))["items"]] == [game.feedback_id]
    assert (await _as(platform, member, "PUT", mark, {"useful": False}))["feedback_id"] == game.feedback_id
    mine = (await _as(platform, member, "GET", "/v1/me/feedback"))["qualities"]
    assert game.feedback_id in [i["feedback_id"] for q in mine for i in q["items"]]


async def _season_of(w: World, game_id: str) -> str:
    return (await _as_admin(w, "GET", f"/v1/games/{game_id}"))["season_id"]


async def test_a_help_request_is_its_peoples_and_no_one_elses(secured, world):
    """The asker's request, routed to a working group the member is in: the group's members read it among those
    routed to them and write in its thread; the moderator, outside the group, reads it as moderators do; another
    member of Main neither finds it nor reads it, nor writes in it, nor closes it; the group's member does not
    close it either (the asker's alone)."""
    platform, actors = secured
    asker_id, asker = await _asker(world)
    group_id = await _working_group(world, joining="open")
    await _as(platform, actors["member"].token, "POST", f"/v1/groups/{group_id}/join", {})
    await settle(platform)
    url = await _help_request(world, asker)
    request_id = url.rsplit("/", 1)[1]
    await _as_admin(world, "POST", url + "/route", {"group_id": group_id})
    member = actors["member"].token
    _, _, stranger = (await _other_teams(world))[1]  # a member of Main outside the group
    await settle(platform)
    listed = {scope: [r["request_id"] for r in (await _as(platform, member, "GET",
                                                            f"/v1/help-requests?scope={scope}"))["items"]]
              for scope in ("mine", "to_me")}
    assert request_id not in listed["mine"] and request_id in listed["to_me"]
    assert (await _as(platform, member, "GET", url))["asker_id"] == asker_id
    assert (await _as(platform, actors["moderator"].token, "GET", url))["status"] == "routed"
    for scope in ("mine", "to_me"):
        got = await _as(platform, stranger, "GET", f"/v1/help-requests?scope={scope}")
        assert request_id not in [r["request_id"] for r in got["items"]]
    before = await log_position(platform)
    assert await _status(platform, stranger, "GET", url) == (404, "help_request_not_found")
    # writing or closing it answers as reading it does: nothing tells the stranger it exists
    assert await _status(platform, stranger, "POST", url + "/messages", {"text": "А мне?"}) == (
        404, "help_request_not_found")
    for token, answer in ((stranger, (404, "help_request_not_found")), (member, (403, "asker_only"))):
        assert await _status(platform, token, "POST", url + "/close", {"outcome": "—", "helped": "no"}) == answer
    await settle(platform)
    assert await log_position(platform) == before
    thread = await _as(platform, member, "POST", url + "/messages", {"text": "Группа готова помочь"})
    assert [m["author_id"] for m in thread["messages"]] == [world.ids["member"]]
