"""The two pictures parse as SVG whatever a group's title holds, mark exactly the held roles and the
qualities a group lacks, and speak the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest

from libs.contracts import roles as c
from services.roles.svg import draw_coverage, draw_map

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script> & \"quotes\" \ud800 \u202e" + "Ж" * 300
WINDOW = c.PickWindowView(status="open", season_id="2027-autumn", opened_at=datetime(2027, 7, 2, tzinfo=UTC),
                          closes_at=datetime(2027, 8, 14, 19, tzinfo=UTC), max_picks=2, time_zone="Asia/Yekaterinburg")


def held(season: str, role: int, title: str | None = HOSTILE) -> c.HeldRole:
    return c.HeldRole(season_id=season, group_id="g" if role <= 9 else None, group_title=title if role <= 9 else None,
                      role=role, quality=c.quality_of(role))


def groups_of(svg: str, kind: str) -> dict[str, ElementTree.Element]:
    tree = ElementTree.fromstring(svg)
    assert not list(tree.iter(f"{NS}script")) and "<script>" not in svg
    key = "data-role" if kind == "role" else "data-quality"
    return {g.get(key): g for g in tree.iter(f"{NS}g") if g.get("class") == kind}


@pytest.mark.parametrize("lang, covered", [("ru", "Осознанность"), ("en", "Awareness")])
def test_the_map_marks_the_held_roles_by_season_in_the_readers_language(lang, covered):
    the_map = c.DevelopmentMap(
        member_id="m", window=WINDOW, qualities_covered=("awareness",), vision_missing=("expertise", "systemic"),
        seasons=(c.SeasonHeld(season_id="2027-spring", roles=(held("2027-spring", 1),)),
                 c.SeasonHeld(season_id="2027-autumn", roles=(held("2027-autumn", 4), held("2027-autumn", 1)),
                              current=True)),
        suggestions=())
    svg = draw_map(the_map, lang)
    cells = groups_of(svg, "role")
    assert sorted(map(int, cells)) == list(range(1, 13))
    assert {k for k, g in cells.items() if g.get("data-held") == "true"} == {"1", "4"}
    text = "".join(cells["1"].itertext())
    assert "2027-spring" in text and "2027-autumn" in text
    assert covered in svg


def test_a_groups_coverage_shows_the_qualities_nobody_holds():
    board = c.VacancyBoard(
        season_id="2027-autumn", group_id="g", group_title=HOSTILE, window=WINDOW, max_picks=2,
        vacancies=tuple(c.VacancyView(role=r, quality=c.quality_of(r), capacity=1, holders=("a",) if r == 2 else (),
                                      open=0 if r == 2 else 1) for r in range(1, 10)),
        qualities_uncovered=("expertise", "systemic"))
    qualities = groups_of(draw_coverage(board, "ru"), "quality")
    assert {q: g.get("data-uncovered") for q, g in qualities.items()} == {
        "awareness": "false", "expertise": "true", "systemic": "true"}
