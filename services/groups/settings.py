from typing import ClassVar

from libs.contracts.groups import DEFAULT_GROUP_TYPES
from libs.kit.settings import KitSettings


class Settings(KitSettings):
    #: groups shows members' names: it reads their keys, wrapped by the key-encryption key
    PRODUCTION_REQUIRED: ClassVar[tuple[str, ...]] = ("token_public_key", "pii_kek")
    #: the kinds of working group members may propose (game_team: the HR-ВЛИЯНИЕ teams)
    group_types: tuple[str, ...] = DEFAULT_GROUP_TYPES
