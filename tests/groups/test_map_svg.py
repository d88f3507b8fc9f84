"""The map's drawing: a picture any XML reader takes, whatever the titles and names hold."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from libs.contracts.groups import GroupMap, MapCoordinator, MapGroup, MapType
from services.groups.map_svg import NOUNS, count, draw

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = ["<script>alert(1)</script>", "a & b < c > d \" ' ]]>", "\ud800 lone surrogate", "\ufffe\uffff",
           "ё" * 500, "‮ обратный", "*", "", "x\u0000y"]


def a_map(title: str, name: str | None, members: int = 3) -> GroupMap:
    group = MapGroup(group_id="g", title=title, members=members,
                     coordinators=(MapCoordinator(member_id="m", display_name=name),))
    return GroupMap(types=(MapType(group_type="game_team", title=title or "t", groups=(group,)),
                           MapType(group_type="research", title="Исследовательская группа", groups=())),
                    groups=1, members=members)


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert not [e for e in root.iter() if e.tag in (f"{SVG}script", f"{SVG}a", f"{SVG}image", f"{SVG}foreignObject")]
    return [t.text or "" for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("title", HOSTILE)
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_any_title_or_name_gives_a_picture_that_parses_and_holds_no_markup(title, lang):
    svg = draw(a_map(title, title), lang)
    svg.encode("utf-8")  # sendable
    shown = texts(svg)
    if title.startswith("<script>"):
        assert any("<script>" in t for t in shown)  # as text, escaped


def test_an_empty_map_says_so_and_a_long_title_is_squeezed_into_its_card():
    assert "Рабочих групп пока нет" in texts(draw(GroupMap(types=(), groups=0, members=0), "ru"))
    svg = draw(a_map("Очень длинное название рабочей группы для проверки", "Константин Константинопольский"), "ru")
    assert 'lengthAdjust="spacingAndGlyphs"' in svg


@pytest.mark.parametrize("n,ru,en", [
    (0, "0 участников", "0 members"), (1, "1 участник", "1 member"), (2, "2 участника", "2 members"),
    (5, "5 участников", "5 members"), (11, "11 участников", "11 members"), (12, "12 участников", "12 members"),
    (21, "21 участник", "21 members"), (22, "22 участника", "22 members"), (111, "111 участников", "111 members"),
    (104, "104 участника", "104 members"),
])
def test_counts_read_as_a_person_writes_them(n, ru, en):
    assert count(n, NOUNS["ru"]["member"], "ru") == ru
    assert count(n, NOUNS["en"]["member"], "en") == en
