"""What every picture the platform draws needs (the groups' map, a member's development map, a group's role
coverage): text escaped for XML and cut to fit, and a count with its noun in the right form. A picture
carries no script, link or external reference, so it is safe to show as an image anywhere."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape as _escape

#: what XML 1.0 cannot carry (a lone surrogate, U+FFFE…): a title holding one must not break the picture
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape(text: str) -> str:
    return _escape(_NOT_XML.sub("\ufffd", text))


def attr(text: str) -> str:
    """Escaped for an attribute's value in double quotes."""
    return escape(text).replace('"', "&quot;")


def count(n: int, forms: tuple[str, str, str], lang: str = "ru") -> str:
    """``n`` with its noun in the right form: Russian has three (1 группа, 2 группы, 5 групп, 21 группа),
    English two (1 group, 21 groups)."""
    if lang != "ru":
        return f"{n} {forms[0] if n == 1 else forms[2]}"
    if n % 10 == 1 and n % 100 != 11:
        form = forms[0]
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        form = forms[1]
    else:
        form = forms[2]
    return f"{n} {form}"


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def lines(text: str, width: int, most: int) -> list[str]:
    """Wrap at spaces into at most ``most`` lines; the last one cut with an ellipsis."""
    words, out, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if len(candidate) <= width:
            line = candidate
            continue
        if line:
            out.append(line)
        line = word
    if line:
        out.append(line)
    if len(out) > most:
        out = out[:most]
        out[-1] = cut(out[-1] + " …", width) if len(out[-1]) < width else cut(out[-1] + "…", width)
    return [cut(x, width) for x in out] or [""]
