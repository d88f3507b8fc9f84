from typing import ClassVar

from pydantic import Field

from libs.kit.settings import KitSettings


class Settings(KitSettings):
    #: feedback and help requests hold what members write: sealed with their keys, wrapped by the kek
    PRODUCTION_REQUIRED: ClassVar[tuple[str, ...]] = ("token_public_key", "pii_kek")
    #: the fewest words a part of a piece of feedback, or of a request for expert help, may have
    feedback_min_words: int = Field(default=4, ge=1, le=100)
    help_min_words: int = Field(default=4, ge=1, le=100)
    #: two parts this similar (0–1, once normalised) are one part written twice
    same_part_ratio: float = Field(default=0.85, gt=0.5, le=1.0)
