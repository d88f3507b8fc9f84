"""The Colleagues directory, field visibility, the decision history and the member list, over HTTP.

Each test names its people with a marker of its own (the platform is shared by the session), and
reads after ``settle``: every projection has applied what the test did."""

from __future__ import annotations

import uuid

import pytest

from services.onboarding.projections import DECISIONS, DIRECTORY
from tests.e2e.helpers import settle
from tests.e2e.journey import FULL_PROFILE, admin_token, make_member, make_moderator, ready_for_review
from tests.platform_harness import Platform


@pytest.fixture(scope="module")
async def admin(platform):
    return await admin_token(platform)


@pytest.fixture(scope="module")
async def searcher(platform, admin) -> str:
    """A member of the Main group, who looks the others up."""
    _, _, token = await make_member(platform, admin, {**FULL_PROFILE, "full_name": "Ищущий Коллег"})
    return token


def marker() -> str:
    """Letters only: a word the folding of every store keeps as it is, in no other test's names."""
    return "".join("абвгдежзиклмнопрстуфхцчшщэюя"[b % 28] for b in uuid.uuid4().bytes[:8])


def phone() -> str:
    digits = f"{uuid.uuid4().int % 10**7:07d}"
    return f"+7 912 {digits[:3]}-{digits[3:5]}-{digits[5:]}"


def profile_of(m: str, **changes) -> dict:
    return {
        **FULL_PROFILE,
        "full_name": f"Ёлкина{m} Алёна",
        "city": f"Верхотурье{m}",
        "company": f"Уралхим{m}",
        "position": f"Рекрутер{m}",
        "professional_interests": [f"ассесмент{m} центры", "наставничество"],
        "phone": phone(),
        "about": f"Пишу о себе {m}",
        **changes,
    }


async def join(p: Platform, admin: str, profile: dict) -> tuple[str, str]:
    member_id, _, token = await make_member(p, admin, profile)
    await settle(p)
    return member_id, token


async def find(p: Platform, token: str, **params):
    async with p.client(token) as c:
        return await c.get("/v1/colleagues", params=params)


async def found_ids(p: Platform, token: str, q: str) -> list[str]:
    r = await find(p, token, q=q)
    assert r.status_code == 200, r.text
    return [i["member_id"] for i in r.json()["items"]]


async def card(p: Platform, token: str, member_id: str):
    async with p.client(token) as c:
        return await c.get(f"/v1/colleagues/{member_id}")


async def set_visible(p: Platform, token: str, visible: list[str]) -> dict:
    async with p.client(token) as c:
        r = await c.put("/v1/me/visibility", json={"visible": visible})
    assert r.status_code == 200, r.text
    await settle(p)
    return r.json()


# ------------------------------------------------------------------ search


async def test_a_member_is_found_by_the_beginnings_of_words_of_name_city_company_and_interests(
        platform, admin, searcher):
    m = marker()
    member_id, _ = await join(platform, admin, profile_of(m))
    for q in (f"Ёлкина{m}", f"ЕЛКИНА{m[:3].upper()}", f"елкина{m}", f"алена ёлкина{m}", f"ЁлКиНа{m} АЛЁНА",
              f"верхотурье{m}", f"Верхотурье{m[:2]} алён", f"уралхим{m}", f"УРАЛХИМ{m}", f"рекрутер{m}",
              f"Ассесмент{m}", f"ассесмент{m} центр", f"наставн ёлкина{m}"):
        assert await found_ids(platform, searcher, q) == [member_id], q
    for q in (f"ёлкина{m} петров", f"лкина{m}", f"алёна{m}", f"уралхим{m}x"):
        assert await found_ids(platform, searcher, q) == [], q
    r = await card(platform, searcher, member_id)
    assert r.status_code == 200, r.text
    assert r.json() == {"member_id": member_id, "full_name": f"Ёлкина{m} Алёна", "city": f"Верхотурье{m}",
                        "company": f"Уралхим{m}", "position": f"Рекрутер{m}",
                        "professional_interests": [f"ассесмент{m} центры", "наставничество"]}


async def test_a_guest_is_refused_the_directory(platform, admin):
    m = marker()
    member_id, _ = await join(platform, admin, profile_of(m))
    _, guest = await ready_for_review(platform, admin, profile_of(marker()))
    for r in (await find(platform, guest), await find(platform, guest, q=f"ёлкина{m}"),
              await card(platform, guest, member_id)):
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "members_only"
    async with platform.client() as anonymous:
        assert (await anonymous.get("/v1/colleagues")).status_code == 401


async def test_an_unknown_colleague_is_not_found(platform, searcher):
    r = await card(platform, searcher, "nobody-here")
    assert r.status_code == 404 and r.json()["code"] == "colleague_not_found"


# ------------------------------------------------------------------ visibility


async def test_a_hidden_phone_is_nowhere_in_the_answers_and_hidden_fields_are_not_searched(
        platform, admin, searcher):
    m = marker()
    profile = profile_of(m)
    digits = "".join(ch for ch in profile["phone"] if ch.isdigit())
    member_id, token = await join(platform, admin, profile)
    async with platform.client(token) as c:
        me = (await c.get("/v1/me")).json()
    assert me["visible_fields"] == ["city", "company", "position", "professional_interests"]  # the default
    assert me["profile"]["phone"] == profile["phone"]  # the member sees their own phone

    listed = await find(platform, searcher, q=f"ёлкина{m}")
    shown = await card(platform, searcher, member_id)
    assert [i["member_id"] for i in listed.json()["items"]] == [member_id]
    for r in (listed, shown):
        assert profile["phone"] not in r.text and digits[-7:] not in r.text and "phone" not in r.text
        assert profile["about"] not in r.text and "years_in_hr" not in r.text

    assert (await set_visible(platform, token, ["city", "city"])) == {"visible": ["city"]}
    for q in (f"уралхим{m}", f"рекрутер{m}", f"ассесмент{m}", digits, digits[-7:], profile["phone"], "912",
              f"ёлкина{m} уралхим{m}"):
        assert await found_ids(platform, searcher, q) == [], q
    assert await found_ids(platform, searcher, f"верхотурье{m} ёлкина{m}") == [member_id]
    shown = await card(platform, searcher, member_id)
    assert shown.json() == {"member_id": member_id, "full_name": f"Ёлкина{m} Алёна", "city": f"Верхотурье{m}"}
    assert f"Уралхим{m}" not in shown.text and profile["phone"] not in shown.text

    # the member's own DB document in the directory holds nothing hidden either
    doc = await platform.services["onboarding"].store.get(DIRECTORY, member_id)
    assert set(doc) - {"_seq"} == {"member_id", "full_name", "city", "sort_name", "search"}
    assert not any(f"уралхим{m}" in w for w in doc["search"])


async def test_a_change_of_visibility_takes_effect(platform, admin, searcher):
    m = marker()
    profile = profile_of(m)
    member_id, token = await join(platform, admin, profile)
    await set_visible(platform, token, ["phone", "about", "years_in_hr"])
    shown = (await card(platform, searcher, member_id)).json()
    assert shown == {"member_id": member_id, "full_name": profile["full_name"], "phone": profile["phone"],
                     "about": profile["about"], "years_in_hr": profile["years_in_hr"]}
    assert await found_ids(platform, searcher, f"верхотурье{m}") == []  # the city is hidden now
    async with platform.client(token) as c:
        assert (await c.get("/v1/me")).json()["visible_fields"] == ["years_in_hr", "phone", "about"]
    await set_visible(platform, token, [])
    assert (await card(platform, searcher, member_id)).json() == {"member_id": member_id,
                                                                   "full_name": profile["full_name"]}
    assert await found_ids(platform, searcher, f"ёлкина{m}") == [member_id]  # the name: always
    # a profile edit rewrites the card with the choice kept
    await set_visible(platform, token, ["company"])
    async with platform.client(token) as c:
        r = await c.put("/v1/me/profile", json={**profile, "company": f"Новаякомпания{m}"})
        assert r.status_code == 200, r.text
    await settle(platform)
    assert await found_ids(platform, searcher, f"новаякомпания{m}") == [member_id]
    assert await found_ids(platform, searcher, f"уралхим{m}") == []


@pytest.mark.parametrize("body", [{"visible": ["email"]}, {"visible": ["full_name"]}, {"visible": "city"},
                                  {"visible": ["city"] * 8}, {"visible": ["city"], "also": 1}, {}])
async def test_a_visibility_the_contract_does_not_know_is_refused(platform, searcher, body):
    async with platform.client(searcher) as c:
        r = await c.put("/v1/me/visibility", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_guest_chooses_their_visibility_before_joining(platform, admin, searcher):
    m = marker()
    profile = profile_of(m)
    member_id, token = await ready_for_review(platform, admin, profile)
    async with platform.client(token) as c:
        r = await c.put("/v1/me/visibility", json={"visible": ["phone"]})
        assert r.status_code == 200 and r.json() == {"visible": ["phone"]}, r.text
    async with platform.client(admin) as c:
        assert (await c.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"})).status_code == 200
    await settle(platform)
    assert (await card(platform, searcher, member_id)).json() == {
        "member_id": member_id, "full_name": profile["full_name"], "phone": profile["phone"]}


# ------------------------------------------------------------------ leaving the directory


async def test_declined_revoked_and_erased_people_are_not_in_the_directory(platform, admin, searcher):
    m = marker()
    declined, _ = await ready_for_review(platform, admin, profile_of(m, full_name=f"Отказанова{m} Вера"))
    revoked, _ = await join(platform, admin, profile_of(m, full_name=f"Отозванова{m} Вера"))
    erased, _ = await join(platform, admin, profile_of(m, full_name=f"Стёртова{m} Вера"))
    await settle(platform)
    assert sorted(await found_ids(platform, searcher, f"верхотурье{m}")) == sorted([revoked, erased])
    async with platform.client(admin) as c:
        r = await c.post(f"/v1/moderation/{declined}/decision", json={"decision": "decline", "message": "не HR"})
        assert r.status_code == 200, r.text
        r = await c.post(f"/v1/moderation/{revoked}/decision", json={"decision": "revoke", "message": "правила"})
        assert r.status_code == 200, r.text
        history = await c.get(f"/v1/moderation/{erased}/history")
        assert [h["decision"] for h in history.json()["items"]] == ["grant"]
        assert (await c.delete(f"/v1/members/{erased}")).status_code == 200
    await settle(platform)
    assert await found_ids(platform, searcher, f"верхотурье{m}") == []
    for who in (declined, revoked, erased):
        assert (await card(platform, searcher, who)).status_code == 404
    store = platform.services["onboarding"].store
    assert await store.get(DIRECTORY, erased) is None
    assert await store.find(DECISIONS, {"member_id": erased}) == []  # the erased one's decisions are gone
    assert len(await store.find(DECISIONS, {"member_id": revoked})) == 2  # grant, revoke
    async with platform.client(admin) as c:
        r = await c.get(f"/v1/moderation/{erased}/history")
        assert r.status_code == 404 and r.json()["code"] == "member_not_found"
        revocation = (await c.get(f"/v1/moderation/{revoked}/history")).json()["items"]
    assert [(h["decision"], h["message"]) for h in revocation] == [("grant", None), ("revoke", "правила")]
    # taken back into the Main group: in the directory again
    async with platform.client(admin) as c:
        assert (await c.post(f"/v1/moderation/{revoked}/decision", json={"decision": "grant"})).status_code == 200
    await settle(platform)
    assert await found_ids(platform, searcher, f"верхотурье{m}") == [revoked]


# ------------------------------------------------------------------ hostile input


HOSTILE = ["%", "_", "*", ".*", "%%", "_%_", "\\", "[а-я]+", "(?i).*", "^.*$", "' OR '1'='1", "\"; DROP TABLE docs; --",
           "') OR 1=1 --", "$where", '{"$gt": ""}', "ё" * 100, "а" * 101, "x" * 10_240, "\x00", "a\x00b", "\x1b[31m",
           "\u202eабв", "\r\n", "\t", "   ", "😀"]


@pytest.mark.parametrize("q", HOSTILE, ids=lambda q: repr(q)[:20])
async def test_hostile_searches_are_refused_or_answered_never_failed(platform, searcher, q):
    for path in ("/v1/colleagues", "/v1/members"):
        async with platform.client(searcher) as c:
            r = await c.get(path, params={"q": q})
        if path == "/v1/members":
            assert r.status_code in (403, 422), r.text  # a member may not list members, whatever q is
            continue
        assert r.status_code in (200, 422), (q, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith(
            "application/json" if r.status_code == 200 else "application/problem+json")
        if r.status_code == 200:
            items = r.json()["items"]
            assert all(set(i) <= {"member_id", "full_name", "city", "company", "position", "years_in_hr",
                                  "professional_interests", "phone", "about"} for i in items)
            if q.strip() and not any(ch.isalnum() for ch in q.replace("_", "")):
                assert items == [], q  # punctuation is no wildcard: it matches nothing


async def test_a_nul_in_the_search_is_refused_by_the_contract_with_422(platform, searcher, admin):
    async with platform.client(searcher, lang="en") as c:
        r = await c.get("/v1/colleagues?q=%00")
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_fields" and body["errors"][0]["field"] == "q", body
    assert body["errors"][0]["message"].startswith("forbidden characters")
    async with platform.client(admin) as c:
        assert (await c.get("/v1/members?q=%00")).status_code == 422


@pytest.mark.parametrize("params", [{"cursor": "garbage"}, {"cursor": "e30"}, {"cursor": "%00"},
                                    {"cursor": "a" * 5000}, {"limit": 0}, {"limit": 101}, {"limit": "x"}])
async def test_a_malformed_cursor_or_limit_is_422(platform, searcher, admin, params):
    r = await find(platform, searcher, **params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if params.get("cursor") in ("garbage", "e30"):
        assert r.json()["code"] == "invalid_cursor"


async def test_a_cursor_of_one_list_is_refused_by_the_other(platform, admin, searcher):
    m = marker()
    for i in range(3):
        await join(platform, admin, profile_of(m, full_name=f"Листова{m} {i}"))
    async with platform.client(admin) as c:
        r = await c.get("/v1/members", params={"q": f"листова{m}", "limit": 1})
    members_cursor = r.json()["next_cursor"]
    assert members_cursor
    r = await find(platform, searcher, q=f"листова{m}", cursor=members_cursor)
    assert r.status_code == 422 and r.json()["code"] == "invalid_cursor"


# ------------------------------------------------------------------ paging


async def test_pages_give_each_colleague_exactly_once_in_the_order_of_names(platform, admin, searcher):
    m = marker()
    names = ["Яковлева", "Алексеева", "ёжикова", "Ежова", "Борисова", "Щукина", "Абрамова"]
    ids = {}
    for name in names:
        member_id, _ = await join(platform, admin, profile_of(m, full_name=f"{name} Пейджинг{m}"))
        ids[member_id] = name
    expected = sorted(ids, key=lambda i: (ids[i].casefold().replace("ё", "е"), i))
    for limit in (1, 2, 3, 7, 100):
        got, cursor = [], None
        while True:
            params = {"q": f"пейджинг{m}", "limit": limit, **({"cursor": cursor} if cursor else {})}
            r = await find(platform, searcher, **params)
            assert r.status_code == 200, r.text
            page = r.json()
            assert len(page["items"]) <= limit
            got += [i["member_id"] for i in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        assert got == expected, limit
    # without q as well: the whole directory pages through, each once
    seen, cursor = [], None
    while True:
        r = await find(platform, searcher, limit=100, **({"cursor": cursor} if cursor else {}))
        seen += [i["member_id"] for i in r.json()["items"]]
        cursor = r.json().get("next_cursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) and set(ids) <= set(seen)


# ------------------------------------------------------------------ decision history


async def test_the_history_lists_the_request_for_changes_then_the_grant_with_the_moderators_name(platform, admin):
    m = marker()
    moderator = await make_moderator(platform, admin)
    async with platform.client(moderator) as c:
        assert (await c.put("/v1/me/profile", json={**FULL_PROFILE, "full_name": f"Модератов{m} Пётр"})).status_code == 200
        moderator_id = (await c.get("/v1/me")).json()["member_id"]
    member_id, token = await ready_for_review(platform, admin, profile_of(m))
    async with platform.client(moderator) as c:
        r = await c.post(f"/v1/moderation/{member_id}/decision",
                         json={"decision": "request_changes", "message": f"Уточните компанию {m}"})
        assert r.status_code == 200, r.text
    async with platform.client(token) as c:
        r = await c.put("/v1/me/profile", json=profile_of(m, company=f"Точнаякомпания{m}"))
        assert r.status_code == 200, r.text
    async with platform.client(moderator) as c:
        assert (await c.post(f"/v1/moderation/{member_id}/decision", json={"decision": "grant"})).status_code == 200
    await settle(platform)
    async with platform.client(admin) as c:
        r = await c.get(f"/v1/moderation/{member_id}/history")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(h["decision"], h["decided_by"], h["decided_by_name"], h["message"]) for h in items] == [
        ("request_changes", moderator_id, f"Модератов{m} Пётр", f"Уточните компанию {m}"),
        ("grant", moderator_id, f"Модератов{m} Пётр", None),
    ]
    assert items[0]["at"] <= items[1]["at"]

    # the moderator erased: the decisions stay, naming nobody
    async with platform.client(admin) as c:
        assert (await c.delete(f"/v1/members/{moderator_id}")).status_code == 200
    await settle(platform)
    async with platform.client(admin) as c:
        items = (await c.get(f"/v1/moderation/{member_id}/history")).json()["items"]
    assert [(h["decision"], h["decided_by_name"]) for h in items] == [("request_changes", None), ("grant", None)]


async def test_a_member_may_see_neither_the_history_nor_the_member_list(platform, admin, searcher):
    member_id, _ = await join(platform, admin, profile_of(marker()))
    async with platform.client(searcher) as c:
        for r in (await c.get(f"/v1/moderation/{member_id}/history"), await c.get("/v1/members")):
            assert r.status_code == 403, r.text
            assert r.json()["code"] == "moderator_only"


# ------------------------------------------------------------------ member list


async def test_moderators_list_members_by_name_and_status_in_the_order_they_registered(platform, admin):
    m = marker()
    first, _ = await join(platform, admin, profile_of(m, full_name=f"Первая{m} Спискова"))
    waiting, _ = await ready_for_review(platform, admin, profile_of(m, full_name=f"Вторая{m} Спискова"))
    third, _ = await join(platform, admin, profile_of(m, full_name=f"Третья{m} Спискова"))
    erased, _ = await join(platform, admin, profile_of(m, full_name=f"Стёртая{m} Спискова"))
    async with platform.client(admin) as c:
        assert (await c.delete(f"/v1/members/{erased}")).status_code == 200
    await settle(platform)
    moderator = await make_moderator(platform, admin)
    async with platform.client(moderator) as c:
        everyone = (await c.get("/v1/members", params={"q": f"спискова первая{m}"})).json()
        assert [(i["member_id"], i["full_name"], i["status"], i["roles"]) for i in everyone["items"]] == [
            (first, f"Первая{m} Спискова", "member", ["member"])]
        assert everyone["total"] == 1
        got, cursor, totals = [], None, set()
        while True:
            params = {"q": "спискова", "limit": 1, **({"cursor": cursor} if cursor else {})}
            page = (await c.get("/v1/members", params=params)).json()
            got += [i["member_id"] for i in page["items"] if i["full_name"].endswith("Спискова")
                    and m in i["full_name"]]
            totals.add(page["total"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        assert got == [first, waiting, third]  # in the order they registered; the erased one not at all
        assert len(totals) == 1
        pending = (await c.get("/v1/members", params={"q": f"спискова{m}", "status": "pending_review"})).json()
        assert pending["items"] == [] and pending["total"] == 0  # the marker is in the first name, not here
        pending = (await c.get("/v1/members", params={"q": f"вторая{m}", "status": "pending_review"})).json()
        assert [i["member_id"] for i in pending["items"]] == [waiting] and pending["total"] == 1
        assert (await c.get("/v1/members", params={"q": f"стёртая{m}"})).json()["items"] == []
        assert (await c.get("/v1/members", params={"status": "erased"})).json() == {"items": [], "next_cursor": None,
                                                                                     "total": 0}
        assert (await c.get("/v1/members", params={"status": "nonsense"})).status_code == 422
        assert (await c.get("/v1/members", params={"limit": 201})).status_code == 422
