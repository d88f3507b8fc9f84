from typing import ClassVar

from libs.kit.settings import KitSettings


class Settings(KitSettings):
    #: groups shows members' names: it reads their keys, wrapped by the key-encryption key
    PRODUCTION_REQUIRED: ClassVar[tuple[str, ...]] = ("token_public_key", "pii_kek")
