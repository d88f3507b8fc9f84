from typing import ClassVar

from pydantic import Field, field_validator

from libs.contracts.groups import DEFAULT_GROUP_TYPES
from libs.kit.settings import KitSettings


class Settings(KitSettings):
    #: groups shows members' names: it reads their keys, wrapped by the key-encryption key
    PRODUCTION_REQUIRED: ClassVar[tuple[str, ...]] = ("token_public_key", "pii_kek")
    #: the kinds of working group members may propose (game_team: the HR-ВЛИЯНИЕ teams)
    group_types: tuple[str, ...] = DEFAULT_GROUP_TYPES
    #: a group's call room: ``{room}`` becomes the group's unguessable room name (a Jitsi Meet room by
    #: default; point it at the community's own video host)
    call_room_url: str = "https://meet.jit.si/hr-mnenie-{room}"
    #: the largest file (each version) a group's drive takes
    drive_max_file_bytes: int = Field(default=50 * 1024 * 1024, ge=1024, le=4 * 1024**3)
    #: what all of a group's files (every version, the bin included) may take together
    drive_quota_bytes: int = Field(default=2 * 1024**3, ge=1024, le=1024**4)
    #: how long a deleted file waits in the bin, restorable, before it is erased
    drive_bin_days: int = Field(default=30, ge=1, le=3650)

    @field_validator("call_room_url")
    @classmethod
    def _one_room_placeholder(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or value.count("{room}") != 1 \
                or value.replace("{room}", "").count("{") or value.replace("{room}", "").count("}"):
            raise ValueError("an http(s) link with {room} once, and no other braces")
        return value
