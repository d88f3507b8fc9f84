from pydantic import Field, field_validator

from libs.contracts.roles import GROUP_QUALITIES, QUALITIES, Quality
from libs.kit.seasons import SeasonSettings


class Settings(SeasonSettings):
    #: how many members may hold one role (1–9) in one working group in a season, until its coordinators
    #: change it
    role_capacity: int = Field(default=1, ge=1, le=50)
    #: how many members may hold one coordination role (10–12) in a season, until moderators change it
    coordination_role_capacity: int = Field(default=1, ge=1, le=50)
    #: the most roles one member picks for one season
    max_picks: int = Field(default=2, ge=1, le=12)
    #: the qualities a member must have held in earlier seasons to pick a Vision role (10–12); empty: any
    #: member of the community may (HRM_VISION_REQUIRES='["awareness","expertise","systemic"]')
    vision_requires: tuple[Quality, ...] = GROUP_QUALITIES
    #: a window opened late (its season already near or past its start) stays open at least this long
    pick_window_min_days: int = Field(default=7, ge=0, le=60)

    @field_validator("vision_requires")
    @classmethod
    def _no_vision_in_vision(cls, value: tuple[Quality, ...]) -> tuple[Quality, ...]:
        if "vision" in value:
            raise ValueError(f"Vision cannot require itself: choose among {', '.join(QUALITIES[:3])}")
        return tuple(dict.fromkeys(value))
