"""The roles service's vacancy boards, as the map of working groups shows them: the roles service publishes
every change of a vacancy with its holders and capacity after it, so this service keeps the figures from
those events alone (it never asks the roles service) — how many places each group's roles have taken and
open in the season of the latest pick window.

A vacancy no event touched yet has the window's default capacity and no holders: the window's documents
keep that default. Coordination roles (10–12) belong to no working group and are not on the map."""

from __future__ import annotations

from libs.contracts import roles as r
from libs.contracts.subjects import events_of
from libs.kit.eventstore import Recorded
from libs.kit.projection import View
from libs.kit.service import Service

ROLE_WINDOWS = "role_windows"
ROLE_VACANCIES = "role_vacancies"
#: the projection the map's queries read
ROLE_BOARDS_VIEW = "role_boards"
#: the roles of a working group's board (10–12 are the coordination's)
GROUP_ROLES = tuple(range(1, 10))


def board_figures(window: dict | None, vacancies: list[dict]) -> dict[str, int] | None:
    """A group's board in the window's season, from the vacancies its events touched (the others have the
    window's default capacity and nobody in them); None while no window was ever opened."""
    if window is None:
        return None
    touched = {v["role"]: v for v in vacancies if v["season_id"] == window["season_id"]}
    taken = places_open = roles_open = 0
    for role in GROUP_ROLES:
        v = touched.get(role)
        holders, capacity = (v["taken"], v["capacity"]) if v else (0, window["group_capacity"])
        free = max(0, capacity - holders)
        taken += holders
        places_open += free
        roles_open += 1 if free else 0
    return {"taken": taken, "open": places_open, "roles_open": roles_open}


async def current_window(store) -> dict | None:
    """The window opened last in the log: its season is the one the map shows (open or closed since)."""
    found = await store.find(ROLE_WINDOWS, {}, sort=[("position", -1)], limit=1)
    return found[0] if found else None


def register_roles_projections(svc: Service) -> None:
    @svc.projection(ROLE_BOARDS_VIEW, [events_of(r.SERVICE)], [ROLE_WINDOWS, ROLE_VACANCIES])
    async def when_roles_vacancy_changed_keep_the_groups_boards(rec: Recorded, view: View) -> None:
        """Each vacancy event carries the whole vacancy after it: the document is replaced, never counted up,
        so a redelivery or a rebuild writes the same figures."""
        e = rec.event
        match e:
            case r.PickWindowOpened():
                await view.put(ROLE_WINDOWS, e.season_id, {
                    "key": e.season_id, "season_id": e.season_id, "group_capacity": e.group_capacity,
                    "position": rec.seq})
            case r.VacancyOccupied() | r.VacancyFreed() | r.VacancyCapacitySet() if e.group_id is not None:
                key = r.vacancy_id(e.season_id, e.group_id, e.role)
                await view.put(ROLE_VACANCIES, key, {
                    "key": key, "season_id": e.season_id, "group_id": e.group_id, "role": e.role,
                    "capacity": e.capacity, "taken": len(e.holders)})
