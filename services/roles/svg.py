"""The development map (the 4×3 matrix, a member's held roles marked by season) and a group's role coverage
(its vacancies this season, the qualities nobody covers) as SVG. Pure: the query hands in what the caller
may see; every text is escaped (libs/kit/svg.py)."""

from __future__ import annotations

from typing import Any

from libs.contracts import roles as c
from libs.kit.svg import attr, count, cut, escape, lines

CELL_W = 230
CELL_H = 96
LABEL_W = 150
MARGIN = 20
HEAD = 64
COLOURS = {"awareness": "#2f6f9f", "expertise": "#2e8b57", "systemic": "#b5651d", "vision": "#7a4fa3"}
WORDS: dict[str, dict[str, Any]] = {
    "ru": {"map": "Карта развития", "coverage": "Роли группы", "coordination": "Координация групп",
           "covered": "Качества освоены", "none": "пока нет", "vision_open": "Видение: доступно",
           "vision_missing": "Видение: нужно ещё", "season": "сезон", "open": "открыто", "uncovered": "не закрыто",
           "current": "сейчас", "holders": ("участник", "участника", "участников"), "no_season": "сезон не выбран",
           "feedback": "обратная связь"},
    "en": {"map": "Development map", "coverage": "Roles of the group", "coordination": "Coordination of groups",
           "covered": "Qualities covered", "none": "none yet", "vision_open": "Vision: open",
           "vision_missing": "Vision: still needs", "season": "season", "open": "open", "uncovered": "uncovered",
           "current": "now", "holders": ("member", "members", "members"), "no_season": "no season",
           "feedback": "feedback"},
}


def _title(role: c.RoleInfo, lang: str) -> str:
    return role.title_ru if lang == "ru" else role.title_en


def _quality(q: c.Quality, lang: str) -> str:
    info = next(i for i in c.MATRIX.qualities if i.quality == q)
    return info.title_ru if lang == "ru" else info.title_en


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{attr(label)}" '
            f'font-family="sans-serif" font-size="12">'
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>' + "".join(body) + "</svg>")


def _cell(x: int, y: int, role: c.RoleInfo, lang: str, fill: bool, dashed: bool, notes: list[str]) -> list[str]:
    colour = COLOURS[role.quality]
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    out = [f'<g class="role" data-role="{role.number}" data-held="{str(fill).lower()}">',
           f'<rect x="{x + 4}" y="{y + 4}" width="{CELL_W - 8}" height="{CELL_H - 8}" rx="8" '
           f'fill="{colour if fill else "#f4f4f4"}" fill-opacity="{0.22 if fill else 1}" stroke="{colour}" '
           f'stroke-width="{2 if fill else 1}"{dash}/>',
           f'<text x="{x + 14}" y="{y + 24}" font-weight="bold" fill="{colour}">{role.number}</text>']
    for i, line in enumerate(lines(_title(role, lang), 30, 2)):
        out.append(f'<text x="{x + 34}" y="{y + 24 + i * 15}">{escape(line)}</text>')
    for i, note in enumerate(notes[:2]):
        out.append(f'<text x="{x + 14}" y="{y + 62 + i * 14}" font-size="11" fill="#333">{escape(cut(note, 36))}'
                   '</text>')
    out.append("</g>")
    return out


def draw_map(m: c.DevelopmentMap, lang: str = "ru") -> str:
    words = WORDS.get(lang, WORDS["ru"])
    held: dict[int, list[c.HeldRole]] = {}
    current: set[int] = set()
    for season in m.seasons:
        for h in season.roles:
            held.setdefault(h.role, []).append(h)
            if season.current:
                current.add(h.role)
    width = LABEL_W + 3 * CELL_W + 2 * MARGIN
    height = HEAD + 4 * CELL_H + 2 * MARGIN + 40
    body = [f'<text x="{MARGIN}" y="{MARGIN + 20}" font-size="18" font-weight="bold">{escape(words["map"])}</text>']
    now = {s.season_id for s in m.seasons if s.current}
    for row, info in enumerate(c.MATRIX.qualities):
        y = HEAD + MARGIN + row * CELL_H
        body.append(f'<text x="{MARGIN}" y="{y + CELL_H // 2 + 4}" font-weight="bold" '
                    f'fill="{COLOURS[info.quality]}">{escape(_quality(info.quality, lang))}</text>')
        if m.feedback_by_quality.get(info.quality):
            body.append(f'<text class="feedback" x="{MARGIN}" y="{y + CELL_H // 2 + 20}" font-size="11" '
                        f'fill="#333">{escape(words["feedback"])}: {m.feedback_by_quality[info.quality]}</text>')
        for col, number in enumerate(info.roles):
            role = c.role_info(number)
            notes = [h.season_id + (f" · {words['current']}" if h.season_id in now else "")
                     + (f" · {h.group_title}" if h.group_title else "") for h in held.get(number, [])]
            body += _cell(MARGIN + LABEL_W + col * CELL_W, y, role, lang, number in held,
                          number in current and len(held.get(number, [])) == 1, notes)
    covered = ", ".join(_quality(q, lang) for q in m.qualities_covered) or words["none"]
    vision = words["vision_open"] if not m.vision_missing else \
        f'{words["vision_missing"]}: {", ".join(_quality(q, lang) for q in m.vision_missing)}'
    y = HEAD + MARGIN + 4 * CELL_H + 24
    body.append(f'<text x="{MARGIN}" y="{y}">{escape(words["covered"])}: {escape(covered)}. {escape(vision)}</text>')
    return _svg(width, height, body, words["map"])


def draw_coverage(board: c.VacancyBoard, lang: str = "ru") -> str:
    words = WORDS.get(lang, WORDS["ru"])
    by_quality: dict[c.Quality, list[c.VacancyView]] = {}
    for v in board.vacancies:
        by_quality.setdefault(v.quality, []).append(v)
    width = LABEL_W + 3 * CELL_W + 2 * MARGIN
    height = HEAD + len(by_quality) * CELL_H + 2 * MARGIN
    title = board.group_title or words["coordination"] if board.group_id == c.COORDINATION else \
        board.group_title or words["coverage"]
    season = board.season_id or words["no_season"]
    body = [f'<text x="{MARGIN}" y="{MARGIN + 20}" font-size="18" font-weight="bold">'
            f'{escape(cut(title, 60))} · {escape(season)}</text>']
    for row, (quality, vacancies) in enumerate(by_quality.items()):
        y = HEAD + MARGIN + row * CELL_H
        lacking = quality in board.qualities_uncovered
        body.append(f'<g class="quality" data-quality="{quality}" data-uncovered="{str(lacking).lower()}">')
        body.append(f'<text x="{MARGIN}" y="{y + CELL_H // 2}" font-weight="bold" fill="{COLOURS[quality]}">'
                    f'{escape(_quality(quality, lang))}</text>')
        if lacking:
            body.append(f'<text x="{MARGIN}" y="{y + CELL_H // 2 + 16}" fill="#a83246">{escape(words["uncovered"])}'
                        '</text>')
        body.append("</g>")
        for col, v in enumerate(vacancies):
            notes = [f'{count(len(v.holders), words["holders"], lang)} / {v.capacity}',
                     f'{words["open"]}: {v.open}']
            body += _cell(MARGIN + LABEL_W + col * CELL_W, y, c.role_info(v.role), lang, bool(v.holders), False,
                          notes)
    return _svg(width, height, body, f'{words["coverage"]}: {title}')
