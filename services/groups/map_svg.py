"""The map of working groups drawn as SVG: one column per type of group, a card per group with its
members and coordinators, and — once the roles service opened a pick window — its role places taken and
open that season, so a member sees at a glance where a role is still free. Pure (no I/O): the query hands
it the map the caller may see.

Text is escaped for XML and cut to fit; the picture carries no script, link or external reference,
so it is safe to show as an image anywhere."""

from __future__ import annotations

from libs.contracts.groups import GroupMap, MapGroup
from libs.kit.svg import count, cut, escape, lines

WIDTH_MIN = 360
COLUMN = 300
GAP = 20
MARGIN = 24
HEADER = 84
COLUMN_HEAD = 56
CARD = 104
#: what a card grows by when the map has role vacancies to show (two lines)
ROLES_LINES = 36
#: characters of a title per line, lines per title, characters of the coordinators' line
TITLE_CHARS = 30
TITLE_LINES = 2
NAMES_CHARS = 38
PALETTE = ("#2f6f9f", "#7a4fa3", "#2e8b57", "#b5651d", "#a83246", "#4b6f2f")

#: room for text inside a card and a column's head, in pixels
TEXT_WIDTH = COLUMN - 30

WORDS = {
    "ru": {"title": "Карта рабочих групп", "none": "Рабочих групп пока нет", "no_coordinator": "без координатора",
           "deleted": "удалённый участник", "places": "Места в ролях — занято: {taken}, свободно: {open}",
           "roles_open": "Ролей со свободными местами: {roles_open}"},
    "en": {"title": "Map of working groups", "none": "No working groups yet", "no_coordinator": "no coordinator",
           "deleted": "deleted member", "places": "Role places — taken: {taken}, open: {open}",
           "roles_open": "Roles with an open place: {roles_open}"},
}
NOUNS = {
    "ru": {"group": ("группа", "группы", "групп"), "member": ("участник", "участника", "участников")},
    "en": {"group": ("group", "groups", "groups"), "member": ("member", "members", "members")},
}


def _text(x: int, y: int, body: str, size: int, *, weight: str = "normal", fill: str = "#1d2733",
          anchor: str = "start", fit: int | None = None) -> str:
    """A line of text; with ``fit``, one that might run wider than that many pixels is squeezed to fit
    (glyph widths are not known here: the estimate is generous, and squeezing a line that fits is harmless)."""
    squeeze = ""
    if fit is not None and len(body) * size * (0.64 if weight == "bold" else 0.58) > fit:
        squeeze = f' textLength="{fit}" lengthAdjust="spacingAndGlyphs"'
    return (f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" fill="{fill}" '
            f'text-anchor="{anchor}"{squeeze}>{escape(body)}</text>')


def _card(x: int, y: int, group: MapGroup, colour: str, w: dict[str, str],
          n: dict[str, tuple[str, str, str]], lang: str, card: int = CARD) -> list[str]:
    out = [f'<g><title>{escape(group.title)}</title>',
           f'<rect x="{x}" y="{y}" width="{COLUMN}" height="{card - 12}" rx="10" fill="#ffffff" '
           f'stroke="{colour}" stroke-width="2"/>',
           f'<rect x="{x}" y="{y}" width="8" height="{card - 12}" rx="4" fill="{colour}"/>']
    for i, line in enumerate(lines(group.title, TITLE_CHARS, TITLE_LINES)):
        out.append(_text(x + 18, y + 24 + i * 19, line, 16, weight="bold", fit=TEXT_WIDTH))
    out.append(_text(x + 18, y + 66, count(group.members, n["member"], lang), 13, fill="#445566"))
    names = ", ".join(c.display_name or w["deleted"] for c in group.coordinators) or w["no_coordinator"]
    out.append(_text(x + 18, y + 84, cut(names, NAMES_CHARS), 12, fill="#445566", fit=TEXT_WIDTH))
    if group.vacancies is not None:
        figures = {k: group.vacancies.get(k, 0) for k in ("taken", "open", "roles_open")}
        out.append(_text(x + 18, y + 104, w["places"].format_map(figures), 12, fill="#1d2733", fit=TEXT_WIDTH))
        out.append(_text(x + 18, y + 121, w["roles_open"].format_map(figures), 12, fill="#1d2733", fit=TEXT_WIDTH))
    out.append("</g>")
    return out


def draw(group_map: GroupMap, lang: str = "ru") -> str:
    w, n = WORDS.get(lang, WORDS["ru"]), NOUNS.get(lang, NOUNS["ru"])
    columns = max(1, len(group_map.types))
    width = max(WIDTH_MIN, MARGIN * 2 + columns * COLUMN + (columns - 1) * GAP)
    rows = max((len(t.groups) for t in group_map.types), default=0)
    roles = any(g.vacancies is not None for t in group_map.types for g in t.groups)
    card = CARD + ROLES_LINES if roles else CARD
    height = HEADER + COLUMN_HEAD + max(rows, 1) * card + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="map-title" '
        f'font-family="DejaVu Sans, Arial, sans-serif">',
        f'<title id="map-title">{escape(w["title"])}</title>',
        f'<rect width="{width}" height="{height}" fill="#f6f8fa"/>',
        _text(MARGIN, 40, w["title"], 24, weight="bold"),
        _text(MARGIN, 66, count(group_map.groups, n["group"], lang) + " · "
              + count(group_map.members, n["member"], lang), 14, fill="#445566"),
    ]
    if not group_map.types:
        parts.append(_text(MARGIN, HEADER + 40, w["none"], 16, fill="#445566"))
    for i, kind in enumerate(group_map.types):
        x = MARGIN + i * (COLUMN + GAP)
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{HEADER}" width="{COLUMN}" height="40" rx="8" fill="{colour}"/>')
        parts.append(_text(x + 14, HEADER + 26, cut(kind.title, NAMES_CHARS), 14, weight="bold", fill="#ffffff",
                           fit=TEXT_WIDTH - 36))
        parts.append(_text(x + COLUMN - 14, HEADER + 26, str(len(kind.groups)), 14, weight="bold", fill="#ffffff",
                           anchor="end"))
        for j, group in enumerate(kind.groups):
            parts.extend(_card(x, HEADER + COLUMN_HEAD + j * card, group, colour, w, n, lang, card))
    parts.append("</svg>")
    return "\n".join(parts)
