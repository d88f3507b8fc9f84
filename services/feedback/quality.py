"""The quality standard of what members write for each other, as one pure check: the unified feedback format
and the four parts of a request for expert help. A part is missing (empty), too thin (fewer words than the
configured minimum), or the same as an earlier part once normalised (case, punctuation, ё, spacing), or
nearly so (a similarity the configured ratio or above): copying one sentence into every field is not four
parts. The web client asks this check through the service's query: it holds no rule of its own."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher

from libs.contracts.feedback import PartProblem, QualityCheck

_WORD = re.compile(r"\w+", re.UNICODE)


def normalised(text: str) -> str:
    return " ".join(_WORD.findall(text.lower().replace("ё", "е")))


def check(parts: Mapping[str, str | None], order: Sequence[str], min_words: int, same_ratio: float) -> QualityCheck:
    problems: list[PartProblem] = []
    seen: list[tuple[str, str]] = []
    for part in order:
        text = normalised(parts.get(part) or "")
        if not text:
            problems.append(PartProblem(part=part, code="missing"))
            continue
        if len(text.split()) < min_words:
            problems.append(PartProblem(part=part, code="too_thin", min_words=min_words))
            continue
        twin = next((other for other, earlier in seen
                     if earlier == text or SequenceMatcher(None, earlier, text, autojunk=False).ratio() >= same_ratio),
                    None)
        if twin is not None:
            problems.append(PartProblem(part=part, code="same_as", same_as=twin))
            continue
        seen.append((part, text))
    return QualityCheck(ok=not problems, problems=tuple(problems))
