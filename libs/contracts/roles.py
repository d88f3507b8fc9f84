"""The 12 roles of a professional (issue 14): the matrix, each season's vacancies and picks, Vision
eligibility and each member's development map.

**The matrix** (``MATRIX``) is reference data: four qualities of three roles each. Roles 1–9
(Awareness, Expertise, Systemic thinking) are vacancies inside every working group; roles 10–12
(Vision) act at the level of coordination between groups: community-wide vacancies
(``group_id`` ``None`` in commands, ``COORDINATION`` in ids and views).

**The pick window** (aggregate ``window``, id = the season the picks are for). It opens when the
calendar closes a season (``SeasonClosed``): the picks are for the next season, and the window
closes at that season's configured first day (a durable timer), or earlier when the calendar closes
that season itself or another window opens. A window opened late stays open for a configured
minimum of days.

**Picks** are decided over two aggregates at once: the member's picks (aggregate ``picks``, id = the
member: their maximum per season, and their history for Vision) and the vacancy (aggregate
``vacancy``, id = ``<season>:<group or coordination>:<role>``: its capacity). Both are appended in
one atomic batch, or neither: ``RoleTaken`` / ``RoleReleased`` on the member, ``VacancyOccupied`` /
``VacancyFreed`` on the vacancy (each carrying the vacancy's holders and capacity after it, so a
consumer keeps the board without the history). When the window closes, the season's figures
(roles taken, vacancies left open by role) are published as ``RolesSeasonReported`` for the
calendar's season results.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from libs.contracts.base import Command, Contract, Event, Query, ServiceContracts
from libs.contracts.calendar import ReportLine
from libs.contracts.my_data import MemberDataCollected
from libs.contracts.types import Id

SERVICE = "roles"

Quality = Literal["awareness", "expertise", "systemic", "vision"]
QUALITIES: tuple[Quality, ...] = ("awareness", "expertise", "systemic", "vision")
#: the qualities whose roles are vacancies inside every working group
GROUP_QUALITIES: tuple[Quality, ...] = ("awareness", "expertise", "systemic")
#: the id, in views and aggregate ids, of the community-wide vacancies of roles 10–12
COORDINATION = "coordination"

RoleNumber = Annotated[int, Field(ge=1, le=12)]
Capacity = Annotated[int, Field(ge=1, le=50)]


class RoleInfo(Contract):
    number: int
    quality: Quality
    #: inside every working group (1–9), or between groups (10–12)
    level: Literal["group", "coordination"]
    title_ru: str
    title_en: str


class QualityInfo(Contract):
    quality: Quality
    title_ru: str
    title_en: str
    roles: tuple[int, ...]
    note_ru: str = ""
    note_en: str = ""


class Matrix(Contract):
    qualities: tuple[QualityInfo, ...]
    roles: tuple[RoleInfo, ...]


def _role(number: int, quality: Quality, ru: str, en: str) -> RoleInfo:
    return RoleInfo(number=number, quality=quality, level="group" if number <= 9 else "coordination",
                    title_ru=ru, title_en=en)


#: the community's own wording (seed text, section IV) and DESIGN.md §8 in English
ROLES: tuple[RoleInfo, ...] = (
    _role(1, "awareness", "Действовать осознанно", "Act consciously"),
    _role(2, "awareness", "Получать специализированные знания, умения, навыки",
          "Gain specialised knowledge and skills"),
    _role(3, "awareness", "Получать опыт планирования и управления работой команды",
          "Gain experience in planning and managing a team's work"),
    _role(4, "expertise", "Повышать качество усвоения материала", "Raise the quality of learning the material"),
    _role(5, "expertise", "Достигать общего результата, сохраняя баланс интересов команды и человека",
          "Reach a common result keeping the balance of team and personal interests"),
    _role(6, "expertise", "Нарабатывать навык оценки профессиональных достижений",
          "Build the skill of assessing professional achievements"),
    _role(7, "systemic", "Анализировать информацию, чтобы находить оригинальные решения",
          "Analyse information to find original solutions"),
    _role(8, "systemic", "Обучать других применению чужого опыта", "Teach others to apply others' experience"),
    _role(9, "systemic", "Разрабатывать инструменты оценки профессиональных достижений",
          "Develop tools for assessing professional achievements"),
    _role(10, "vision", "Создавать авторские решения и учить их системному применению",
          "Create original solutions and teach their systematic use"),
    _role(11, "vision", "Поддерживать в достижении цели", "Support others in reaching goals"),
    _role(12, "vision", "Определять стратегические цели и направления развития",
          "Set strategic goals and directions of development"),
)
MATRIX = Matrix(
    qualities=(
        QualityInfo(quality="awareness", title_ru="Осознанность", title_en="Awareness", roles=(1, 2, 3)),
        QualityInfo(quality="expertise", title_ru="Экспертность", title_en="Expertise", roles=(4, 5, 6)),
        QualityInfo(quality="systemic", title_ru="Системность", title_en="Systemic thinking", roles=(7, 8, 9)),
        QualityInfo(quality="vision", title_ru="Видение", title_en="Vision", roles=(10, 11, 12),
                    note_ru="Четвёртое качество — не вводная для развития, а один из его результатов: оно "
                            "формируется из уникального сочетания трёх первых.",
                    note_en="The fourth quality is not an input of development but one of its results: it "
                            "grows from a unique combination of the first three."),
    ),
    roles=ROLES,
)


def role_info(number: int) -> RoleInfo:
    return ROLES[number - 1]


def quality_of(number: int) -> Quality:
    return ROLES[number - 1].quality


def vacancy_id(season_id: str, group_id: str | None, role: int) -> str:
    return f"{season_id}:{group_id or COORDINATION}:{role}"


# ---------------------------------------------------------------- events: the pick window


class PickWindowOpened(Event):
    #: the season the picks are for, and the season whose closing opened the window
    season_id: str
    after_season_id: str
    opened_at: AwareDatetime
    closes_at: AwareDatetime
    #: the defaults of this season's vacancies (a vacancy's own capacity, once set, replaces them)
    group_capacity: int
    coordination_capacity: int
    max_picks: int


class PickWindowClosed(Event):
    season_id: str
    closed_at: AwareDatetime
    #: its time came, the calendar closed the season itself, or the next window opened
    reason: Literal["time", "season_closed", "next_window"]


class RolesSeasonReported(Event):
    """The season's roles, once its window closed: the calendar's season results include them."""

    season_id: str
    lines: tuple[ReportLine, ...]


# ---------------------------------------------------------------- events: picks and vacancies


class RoleTaken(Event):
    member_id: str
    season_id: str
    #: the working group (roles 1–9) or None (10–12: coordination)
    group_id: str | None
    role: int
    quality: Quality


class RoleReleased(Event):
    member_id: str
    season_id: str
    group_id: str | None
    role: int
    quality: Quality
    #: the member gave it up, a moderator did, or the member left the group or the community
    reason: Literal["released", "released_by_moderator", "left_group", "left_community"] = "released"


class VacancyOccupied(Event):
    season_id: str
    group_id: str | None
    role: int
    member_id: str
    #: after this event
    holders: tuple[str, ...]
    capacity: int


class VacancyFreed(Event):
    season_id: str
    group_id: str | None
    role: int
    member_id: str
    holders: tuple[str, ...]
    capacity: int


class VacancyCapacitySet(Event):
    season_id: str
    group_id: str | None
    role: int
    capacity: int
    holders: tuple[str, ...]
    set_by: str


WINDOW_EVENTS = (PickWindowOpened, PickWindowClosed, RolesSeasonReported)
PICK_EVENTS = (RoleTaken, RoleReleased)
VACANCY_EVENTS = (VacancyOccupied, VacancyFreed, VacancyCapacitySet)


# ---------------------------------------------------------------- replies


class PickWindowView(Contract):
    """Where the picks stand: ``open`` (picks for ``season_id`` until ``closes_at``), ``closed`` (the last
    window, if any, and the season whose closing opens the next one, with its planned last day)."""

    status: Literal["open", "closed"]
    season_id: str | None = None
    opened_at: datetime | None = None
    closes_at: datetime | None = None
    closed_at: datetime | None = None
    #: when closed: the calendar's season whose closing will open the next window, and its last day
    opens_after_season_id: str | None = None
    opens_after_season_ends_on: date | None = None
    max_picks: int
    time_zone: str


class VacancyView(Contract):
    role: int
    quality: Quality
    capacity: int
    holders: tuple[str, ...]
    open: int
    #: the caller holds it
    mine: bool = False


class VacancyBoard(Contract):
    season_id: str | None
    #: the working group's id, or ``coordination``
    group_id: str
    group_title: str | None = None
    window: PickWindowView
    vacancies: tuple[VacancyView, ...]
    #: the caller may pick here (a member of the group; for coordination, of the community), and may set
    #: capacities (a coordinator of the group, or a moderator)
    can_pick: bool = False
    can_set_capacity: bool = False
    #: what the caller already picked this season, and their maximum
    my_picks: int = 0
    max_picks: int
    #: qualities without any holder this season (the group's gaps)
    qualities_uncovered: tuple[Quality, ...] = ()


class HeldRole(Contract):
    season_id: str
    group_id: str | None
    group_title: str | None = None
    role: int
    quality: Quality


class SeasonHeld(Contract):
    season_id: str
    roles: tuple[HeldRole, ...]
    #: the picks of the open window (not yet history)
    current: bool = False


class Suggestion(Contract):
    """A quality not yet covered, and an open vacancy (of the open window) that would cover it."""

    quality: Quality
    role: int | None = None
    group_id: str | None = None
    group_title: str | None = None


class DevelopmentMap(Contract):
    member_id: str
    seasons: tuple[SeasonHeld, ...]
    qualities_covered: tuple[Quality, ...]
    #: the qualities Vision still needs, by the configured rule (empty: Vision is open to this member)
    vision_missing: tuple[Quality, ...]
    suggestions: tuple[Suggestion, ...]
    window: PickWindowView
    #: pieces of feedback published to the member's game teams, by the quality each develops (from the
    #: feedback service's events)
    feedback_by_quality: dict[str, int] = {}


class DevelopmentMapSvg(Contract):
    svg: str


# ---------------------------------------------------------------- commands


class _OnVacancy(Command):
    service = SERVICE
    reply_model = VacancyBoard
    #: the working group; None for a coordination role (10–12)
    group_id: Id | None = None
    role: RoleNumber


class TakeRole(_OnVacancy):
    """Pick a role for the season of the open window (again: nothing more happens)."""


class ReleaseRole(_OnVacancy):
    """Give a pick up while the window is open (a moderator may name another member)."""

    member_id: Id | None = None


class SetVacancyCapacity(_OnVacancy):
    """A group's coordinators (or moderators) set how many may hold a role this season; coordination
    roles: moderators. Never below the holders it has."""

    capacity: Capacity


# ---------------------------------------------------------------- queries


class GetMatrix(Query):
    service = SERVICE
    reply_model = Matrix


class GetPickWindow(Query):
    service = SERVICE
    reply_model = PickWindowView


class GetVacancyBoard(Query):
    """A group's (or the coordination's) vacancies for a season: the open window's, else the last one's."""

    service = SERVICE
    reply_model = VacancyBoard
    group_id: Id | None = None
    season_id: Id | None = None


class GetDevelopmentMap(Query):
    """The caller's map (a moderator may name a member)."""

    service = SERVICE
    reply_model = DevelopmentMap
    member_id: Id | None = None


class DrawDevelopmentMap(Query):
    service = SERVICE
    reply_model = DevelopmentMapSvg
    member_id: Id | None = None
    lang: Literal["ru", "en"] = "ru"


class DrawRoleCoverage(Query):
    """A group's coverage of the matrix this season, as a picture: which qualities it lacks."""

    service = SERVICE
    reply_model = DevelopmentMapSvg
    group_id: Id
    season_id: Id | None = None
    lang: Literal["ru", "en"] = "ru"

class RolesDataCollected(MemberDataCollected):
    """The roles' part of a member's data: the roles they held, season by season."""

EVENTS = (*WINDOW_EVENTS, *PICK_EVENTS, *VACANCY_EVENTS, RolesDataCollected)
COMMANDS = (TakeRole, ReleaseRole, SetVacancyCapacity)
QUERIES = (GetMatrix, GetPickWindow, GetVacancyBoard, GetDevelopmentMap, DrawDevelopmentMap, DrawRoleCoverage)
REPLIES = (RoleInfo, QualityInfo, Matrix, PickWindowView, VacancyView, VacancyBoard, HeldRole, SeasonHeld,
           Suggestion, DevelopmentMap, DevelopmentMapSvg)
CONTRACTS = ServiceContracts(SERVICE, EVENTS, COMMANDS, QUERIES, REPLIES, member_data=RolesDataCollected)
