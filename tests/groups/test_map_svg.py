"""The map's drawing: a picture any XML reader takes, whatever the titles and names hold."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from libs.contracts.groups import GroupMap, MapCoordinator, MapGroup, MapType
from services.groups.map_svg import NOUNS, count, draw
from services.groups.roles_projections import board_figures

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


def with_board(vacancies: dict[str, int] | None, *, others: int = 0) -> GroupMap:
    """One group with this board, and ``others`` groups without one."""
    groups = [MapGroup(group_id="g", title="Исследование", members=2, coordinators=(), vacancies=vacancies)]
    groups += [MapGroup(group_id=f"o{i}", title=f"Другая {i}", members=1, coordinators=()) for i in range(others)]
    return GroupMap(types=(MapType(group_type="research", title="Исследовательская группа", groups=tuple(groups)),),
                    groups=len(groups), members=2)


@pytest.mark.parametrize("lang,places,roles", [
    ("ru", "Места в ролях — занято: 2, свободно: 8", "Ролей со свободными местами: 7"),
    ("en", "Role places — taken: 2, open: 8", "Roles with an open place: 7"),
])
def test_a_groups_card_shows_its_role_places_taken_and_open(lang, places, roles):
    svg = draw(with_board({"taken": 2, "open": 8, "roles_open": 7}), lang)
    shown = texts(svg)
    assert places in shown and roles in shown
    # the card grows to hold the two lines: every text stays inside the picture
    root = ET.fromstring(svg)
    height = int(root.get("height"))
    assert all(int(t.get("y")) < height for t in root.iter(f"{SVG}text"))


def test_a_map_before_any_pick_window_shows_no_role_places_and_keeps_its_size():
    before = draw(with_board(None), "ru")
    assert not [t for t in texts(before) if "ролях" in t or "Ролей" in t]
    assert ET.fromstring(before).get("height") == ET.fromstring(draw(a_map("Игра", "Анна"), "ru")).get("height")
    # one group with a board and one without: only the first card says anything of roles
    mixed = texts(draw(with_board({"taken": 0, "open": 9, "roles_open": 9}, others=1), "en"))
    assert mixed.count("Role places — taken: 0, open: 9") == 1 and mixed.count("Roles with an open place: 9") == 1


def test_a_board_counts_untouched_roles_at_the_windows_default_and_only_its_season():
    window = {"season_id": "3000-autumn", "group_capacity": 1}
    assert board_figures(None, []) is None
    assert board_figures(window, []) == {"taken": 0, "open": 9, "roles_open": 9}
    vacancies = [
        {"season_id": "3000-autumn", "role": 1, "capacity": 1, "taken": 1},  # full
        {"season_id": "3000-autumn", "role": 5, "capacity": 3, "taken": 1},  # two places left
        {"season_id": "3000-autumn", "role": 6, "capacity": 2, "taken": 0},  # freed again
        {"season_id": "3000-spring", "role": 2, "capacity": 1, "taken": 1},  # another season's
    ]
    assert board_figures(window, vacancies) == {"taken": 2, "open": 0 + 2 + 2 + 6, "roles_open": 8}
    assert board_figures({**window, "group_capacity": 2}, vacancies[:1]) == {"taken": 1, "open": 16,
                                                                                 "roles_open": 8}
