"""The 12 roles of a professional: the matrix, the pick window, each working group's vacancies (and the
community-wide coordination roles 10–12) with picking and releasing while the window is open, capacities
for coordinators, and each member's development map (JSON and a picture)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from libs.contracts import roles as c
from libs.contracts.roles import SERVICE
from libs.contracts.types import ID_PATTERN
from services.gateway.deps import AuthBus, AuthCommandBus
from services.gateway.i18n import language
from services.gateway.problems import PROBLEM_RESPONSES
from services.gateway.routers.groups import SVG_HEADERS

PathId = Annotated[str, Path(pattern=ID_PATTERN)]
GroupRole = Annotated[int, Path(ge=1, le=9, description="a role of a working group: 1–9")]
CoordinationRole = Annotated[int, Path(ge=10, le=12, description="a coordination role: 10–12")]
SeasonId = Annotated[str | None, Query(pattern=ID_PATTERN, description="the open window's season by default")]
Lang = Annotated[str | None, Header()]

router = APIRouter(tags=["roles"], responses=PROBLEM_RESPONSES)
SVG = {200: {"content": {"image/svg+xml": {}}, "description": "An SVG picture"}}
GROUP = "/v1/groups/{group_id}/roles"
COORDINATION = "/v1/roles/coordination"


class CapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    capacity: c.Capacity


def svg(drawn: dict) -> Response:
    return Response(drawn["svg"], media_type="image/svg+xml", headers=SVG_HEADERS)


@router.get("/v1/roles", response_model=c.GetMatrix.reply_model,
            summary="The matrix: 12 roles of four qualities, in Russian and English")
async def matrix(bus: AuthBus):
    return await bus.query(SERVICE, c.GetMatrix())


@router.get("/v1/roles/window", response_model=c.GetPickWindow.reply_model,
            summary="The pick window: open (for which season, until when) or closed (and when it opens)")
async def pick_window(bus: AuthBus):
    return await bus.query(SERVICE, c.GetPickWindow())


@router.get(GROUP, response_model=c.GetVacancyBoard.reply_model,
            summary="A working group's vacancies (roles 1–9) for a season: who holds each, how many are open")
async def group_board(bus: AuthBus, group_id: PathId, season_id: SeasonId = None):
    return await bus.query(SERVICE, c.GetVacancyBoard(group_id=group_id, season_id=season_id))


@router.get(GROUP + "/coverage.svg", response_class=Response, responses=SVG,
            summary="A working group's coverage of the matrix for a season, as a picture: the qualities it lacks")
async def group_coverage(bus: AuthBus, group_id: PathId, season_id: SeasonId = None, accept_language: Lang = None):
    return svg(await bus.query(SERVICE, c.DrawRoleCoverage(group_id=group_id, season_id=season_id,
                                                           lang=language(accept_language))))


@router.put(GROUP + "/{role}/pick", response_model=c.TakeRole.reply_model,
            summary="Pick a role in a group one belongs to, while the window is open (again: nothing changes)")
async def take_group_role(bus: AuthCommandBus, group_id: PathId, role: GroupRole):
    return await bus.command(SERVICE, c.TakeRole(group_id=group_id, role=role))


@router.delete(GROUP + "/{role}/pick", response_model=c.ReleaseRole.reply_model,
               summary="Give a pick up while the window is open (a moderator may name another member)")
async def release_group_role(bus: AuthCommandBus, group_id: PathId, role: GroupRole,
                             member_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None):
    return await bus.command(SERVICE, c.ReleaseRole(group_id=group_id, role=role, member_id=member_id))


@router.put(GROUP + "/{role}/capacity", response_model=c.SetVacancyCapacity.reply_model,
            summary="How many may hold the role this season (the group's coordinators, moderators)")
async def set_group_capacity(body: CapacityIn, bus: AuthCommandBus, group_id: PathId, role: GroupRole):
    return await bus.command(SERVICE, c.SetVacancyCapacity(group_id=group_id, role=role, capacity=body.capacity))


@router.get(COORDINATION, response_model=c.GetVacancyBoard.reply_model,
            summary="The coordination roles (10–12, Vision): community-wide vacancies for a season")
async def coordination_board(bus: AuthBus, season_id: SeasonId = None):
    return await bus.query(SERVICE, c.GetVacancyBoard(group_id=None, season_id=season_id))


@router.put(COORDINATION + "/{role}/pick", response_model=c.TakeRole.reply_model,
            summary="Pick a Vision role: open to members who held roles of the other three qualities before")
async def take_coordination_role(bus: AuthCommandBus, role: CoordinationRole):
    return await bus.command(SERVICE, c.TakeRole(group_id=None, role=role))


@router.delete(COORDINATION + "/{role}/pick", response_model=c.ReleaseRole.reply_model,
               summary="Give a coordination pick up while the window is open")
async def release_coordination_role(bus: AuthCommandBus, role: CoordinationRole,
                                    member_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None):
    return await bus.command(SERVICE, c.ReleaseRole(group_id=None, role=role, member_id=member_id))


@router.put(COORDINATION + "/{role}/capacity", response_model=c.SetVacancyCapacity.reply_model,
            summary="How many may hold a coordination role this season (moderators)")
async def set_coordination_capacity(body: CapacityIn, bus: AuthCommandBus, role: CoordinationRole):
    return await bus.command(SERVICE, c.SetVacancyCapacity(group_id=None, role=role, capacity=body.capacity))


@router.get("/v1/me/roles", response_model=c.GetDevelopmentMap.reply_model,
            summary="My development map: every season and role held, qualities covered, what to take next")
async def my_map(bus: AuthBus):
    return await bus.query(SERVICE, c.GetDevelopmentMap())


@router.get("/v1/me/roles/map.svg", response_class=Response, responses=SVG,
            summary="My development map as a picture: the 4×3 matrix with held roles marked by season")
async def my_map_svg(bus: AuthBus, accept_language: Lang = None):
    return svg(await bus.query(SERVICE, c.DrawDevelopmentMap(lang=language(accept_language))))


@router.get("/v1/members/{member_id}/development-map", response_model=c.GetDevelopmentMap.reply_model,
            summary="A member's development map (moderators; a member reads their own)")
async def member_map(bus: AuthBus, member_id: PathId):
    return await bus.query(SERVICE, c.GetDevelopmentMap(member_id=member_id))
