from typing import ClassVar

from pydantic import field_validator

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

    @field_validator("call_room_url")
    @classmethod
    def _one_room_placeholder(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or value.count("{room}") != 1 \
                or value.replace("{room}", "").count("{") or value.replace("{room}", "").count("}"):
            raise ValueError("an http(s) link with {room} once, and no other braces")
        return value
