"""The map of working groups drawn as SVG: one column per type of group, a card per group with its
members and coordinators. Pure (no I/O): the query hands it the map the caller may see.

Text is escaped for XML and cut to fit; the picture carries no script, link or external reference,
so it is safe to show as an image anywhere."""

from __future__ import annotations

from xml.sax.saxutils import escape

from libs.contracts.groups import GroupMap, MapGroup

WIDTH_MIN = 360
COLUMN = 300
GAP = 20
MARGIN = 24
HEADER = 84
COLUMN_HEAD = 56
CARD = 104
#: characters of a title per line, lines per title, characters of the coordinators' line
TITLE_CHARS = 30
TITLE_LINES = 2
NAMES_CHARS = 38
PALETTE = ("#2f6f9f", "#7a4fa3", "#2e8b57", "#b5651d", "#a83246", "#4b6f2f")

WORDS = {
    "ru": {"title": "Карта рабочих групп", "groups": "групп", "members": "участников", "coordinators": "Координаторы",
           "none": "Рабочих групп пока нет", "no_coordinator": "без координатора", "deleted": "удалённый участник",
           "totals": "{groups} групп · {members} участников"},
    "en": {"title": "Map of working groups", "groups": "groups", "members": "members", "coordinators": "Coordinators",
           "none": "No working groups yet", "no_coordinator": "no coordinator", "deleted": "deleted member",
           "totals": "{groups} groups · {members} members"},
}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _lines(text: str, width: int, count: int) -> list[str]:
    """Wrap at spaces into at most ``count`` lines; the last one cut with an ellipsis."""
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
    if line:
        lines.append(line)
    if len(lines) > count:
        lines = lines[:count]
        lines[-1] = _cut(lines[-1] + " …", width) if len(lines[-1]) < width else _cut(lines[-1] + "…", width)
    return [_cut(x, width) for x in lines] or [""]


def _text(x: int, y: int, body: str, size: int, *, weight: str = "normal", fill: str = "#1d2733",
          anchor: str = "start") -> str:
    return (f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" fill="{fill}" '
            f'text-anchor="{anchor}">{escape(body)}</text>')


def _card(x: int, y: int, group: MapGroup, colour: str, w: dict[str, str]) -> list[str]:
    out = [f'<g><title>{escape(group.title)}</title>',
           f'<rect x="{x}" y="{y}" width="{COLUMN}" height="{CARD - 12}" rx="10" fill="#ffffff" '
           f'stroke="{colour}" stroke-width="2"/>',
           f'<rect x="{x}" y="{y}" width="8" height="{CARD - 12}" rx="4" fill="{colour}"/>']
    for i, line in enumerate(_lines(group.title, TITLE_CHARS, TITLE_LINES)):
        out.append(_text(x + 18, y + 24 + i * 19, line, 16, weight="bold"))
    out.append(_text(x + 18, y + 66, f"{group.members} {w['members']}", 13, fill="#445566"))
    names = ", ".join(c.display_name or w["deleted"] for c in group.coordinators) or w["no_coordinator"]
    out.append(_text(x + 18, y + 84, _cut(names, NAMES_CHARS), 12, fill="#445566"))
    out.append("</g>")
    return out


def draw(group_map: GroupMap, lang: str = "ru") -> str:
    w = WORDS.get(lang, WORDS["ru"])
    columns = max(1, len(group_map.types))
    width = max(WIDTH_MIN, MARGIN * 2 + columns * COLUMN + (columns - 1) * GAP)
    rows = max((len(t.groups) for t in group_map.types), default=0)
    height = HEADER + COLUMN_HEAD + max(rows, 1) * CARD + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="map-title" '
        f'font-family="DejaVu Sans, Arial, sans-serif">',
        f'<title id="map-title">{escape(w["title"])}</title>',
        f'<rect width="{width}" height="{height}" fill="#f6f8fa"/>',
        _text(MARGIN, 40, w["title"], 24, weight="bold"),
        _text(MARGIN, 66, w["totals"].format(groups=group_map.groups, members=group_map.members), 14,
              fill="#445566"),
    ]
    if not group_map.types:
        parts.append(_text(MARGIN, HEADER + 40, w["none"], 16, fill="#445566"))
    for i, kind in enumerate(group_map.types):
        x = MARGIN + i * (COLUMN + GAP)
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{HEADER}" width="{COLUMN}" height="40" rx="8" fill="{colour}"/>')
        parts.append(_text(x + 14, HEADER + 26, _cut(f"{kind.title} · {len(kind.groups)}", NAMES_CHARS - 4), 15,
                           weight="bold", fill="#ffffff"))
        for j, group in enumerate(kind.groups):
            parts.extend(_card(x, HEADER + COLUMN_HEAD + j * CARD, group, colour, w))
    parts.append("</svg>")
    return "\n".join(parts)
