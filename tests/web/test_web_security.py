"""The web client as someone trying to break it sees it: forged forms, foreign origins, redirects
elsewhere, hostile input in every field, huge bodies, the wrong role, stale and forged sessions.

Most of these speak HTTP to the web client directly (as an attacker's script would); the ones about
what a person sees use the browser.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.helpers import log_position
from tests.e2e.journey import admin_token, invite, register
from tests.platform_harness import ADMIN_EMAIL, ADMIN_PASSWORD, Platform
from tests.web.conftest import open_session, seal_session
from tests.web.test_journey import PASSWORD, colleague, sign_in, surname

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Visitor:
    """A browser without a browser: its cookies, and the CSRF token of the last page it read."""

    def __init__(self, web: Platform):
        self.http = httpx.AsyncClient(base_url=web.web_url, follow_redirects=False, timeout=20.0)
        self.csrf = ""

    async def get(self, path: str, **kw) -> httpx.Response:
        r = await self.http.get(path, **kw)
        if found := CSRF.search(r.text):
            self.csrf = found.group(1)
        return r

    async def post(self, path: str, data: dict, csrf: bool = True, **kw) -> httpx.Response:
        return await self.http.post(path, data={**({"csrf": self.csrf} if csrf else {}), **data}, **kw)

    async def sign_in(self, email: str, password: str = PASSWORD) -> None:
        await self.get("/login")
        r = await self.post("/login", {"email": email, "password": password})
        assert r.status_code == 303, r.text
        await self.get("/")

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.http.aclose()


async def test_a_form_without_its_csrf_token_or_with_another_sessions_is_refused_and_changes_nothing(web):
    _, email = await colleague(web, surname())
    async with Visitor(web) as me, Visitor(web) as other:
        await me.sign_in(email)
        await other.get("/login")
        before = await log_position(web)
        for data, csrf in (({}, False), ({"csrf": other.csrf}, False), ({"csrf": ""}, False),
                           ({"csrf": me.csrf + "x"}, False), ({"csrf": [me.csrf, "x"]}, False)):
            r = await me.post("/rules", data, csrf=csrf)
            assert r.status_code == 403, (data, r.text)
            assert "Форма устарела" in r.text and "text/html" in r.headers["content-type"]
        r = await me.post("/invitations", {"max_uses": "5"}, csrf=False)
        assert r.status_code == 403
        # a page of another site posting with the right token is refused by its Origin
        r = await me.post("/rules", {}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403
        assert await log_position(web) == before, "a refused form appended nothing"
        # and a token seen before signing in does not survive it (a fixed token cannot be planted)
        async with Visitor(web) as planted:
            await planted.get("/login")
            old = planted.csrf
            await planted.post("/login", {"email": email, "password": PASSWORD})
            assert (await planted.post("/rules", {"csrf": old}, csrf=False)).status_code == 403


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
                                    "/%0d%0aSet-Cookie:x=1", "/\r\nSet-Cookie:x=1", "http:/evil.example", "\\\\evil.example", "/" + "a" * 600])
async def test_no_redirect_ever_leaves_the_site(web, target):
    _, email = await colleague(web, surname())
    async with Visitor(web) as v:
        r = await v.get("/lang/en", params={"next": target})
        assert r.status_code == 303 and stays_here(r.headers["location"])
        assert "x=1" not in r.headers.get("set-cookie", "")
        await v.get("/login")
        r = await v.post("/login", {"email": email, "password": PASSWORD, "next": target})
        assert r.status_code == 303 and stays_here(r.headers["location"])


def stays_here(location: str) -> bool:
    parts = urlsplit(location)
    return (not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//")
            and "\\" not in location and "\r" not in location and "\n" not in location)


HOSTILE = ["%", "_", "*", ".*", "(?i).*", "' OR 1=1 --", "\"; DROP TABLE members; --", "$where", '{"$gt": ""}',
           "\x00", "\u202e", "<script>alert(1)</script>", "ё" * 5000, "🙂" * 50, " ", "a,b,,c"]


async def test_hostile_input_in_every_field_gets_a_page_never_a_crash(web):
    member_id, email = await colleague(web, surname())
    async with Visitor(web) as v:
        await v.sign_in(email)
        for value in HOSTILE:
            for path, params in (("/colleagues", {"q": value}), ("/colleagues", {"cursor": value}),
                                 ("/admin/members", {"q": value, "status": value})):
                r = await v.get(path, params=params)
                assert r.status_code in (200, 403, 422), (path, value, r.status_code)
                assert "<script>alert(1)</script>" not in r.text
            r = await v.post("/profile", {f: value for f in ("full_name", "city", "company", "position",
                                                              "years_in_hr", "professional_interests", "phone")})
            assert r.status_code in (303, 413, 422), (value, r.status_code, r.text[:300])
            if r.status_code == 422:
                assert 'class="error"' in r.text or "error-box" in r.text
            assert "<script>alert(1)</script>" not in r.text
            r = await v.post("/login", {"email": value, "password": value})
            assert r.status_code in (401, 422, 429), (value, r.status_code, r.headers.get("location"))
        for path in ("/colleagues/%00", "/colleagues/..%2F..%2Fetc", "/moderation/" + "x" * 500,
                     "/join/%27%20OR%201%3D1", "/colleagues/*", "/static/../app.py", "/static/%2e%2e/settings.py"):
            r = await v.get(path)
            assert r.status_code in (403, 404), (path, r.status_code)
            assert "text/html" in r.headers["content-type"] and "Traceback" not in r.text
    async with web.client(await admin_token(web)) as c:  # the member's own record was not damaged
        assert (await c.get(f"/v1/members/{member_id}")).status_code == 200


async def test_a_huge_form_is_refused_before_it_is_read(web):
    async with Visitor(web) as v:
        await v.get("/login")
        r = await v.post("/login", {"email": "a@b.ru", "password": "x" * 200_000})
        assert r.status_code == 413
        assert "Форма слишком большая" in r.text


async def test_a_guest_and_a_member_get_a_page_that_says_no_on_moderator_and_admin_pages(web):
    admin = await admin_token(web)
    inv = await invite(web, admin)
    _, guest_email, _ = await register(web, inv["token"])
    _, member_email = await colleague(web, surname())
    for email, colleagues_status in ((guest_email, 403), (member_email, 200)):
        async with Visitor(web) as v:
            await v.sign_in(email)
            for path in ("/moderation", f"/moderation/{uuid.uuid4().hex}", "/invitations", "/admin/members"):
                r = await v.get(path)
                assert r.status_code == 403, (email, path, r.status_code)
                assert "Нет доступа" in r.text
            assert (await v.get("/colleagues")).status_code == colleagues_status
            before = await log_position(web)
            for path, data in (("/invitations", {"max_uses": "100"}), ("/moderation/x1/", {"decision": "grant"}),
                               ("/admin/members/x1/roles", {"roles": "admin"})):
                r = await v.post(path.rstrip("/"), data)
                assert r.status_code in (403, 404), (path, r.status_code)
            assert await log_position(web) == before, "nothing changed"


async def test_the_phone_a_member_hid_is_in_neither_the_directory_page_nor_its_api(people, web):
    hidden = surname()
    member_id, owner_email = await colleague(web, hidden, phone="+7 999 555-44-33")
    _, viewer_email = await colleague(web, surname())
    person = await people("viewer")
    await sign_in(person, viewer_email)
    await person.open(f"/colleagues?q={hidden}")
    await person.open(f"/colleagues/{member_id}", "card-no-phone")
    assert "555-44-33" not in await person.page.content()
    tokens = open_session((await person.session_cookie())["value"])
    async with web.client(tokens["access"]) as c:
        for path in (f"/v1/colleagues?q={hidden}", f"/v1/colleagues/{member_id}", "/v1/colleagues?q=555",
                     "/v1/colleagues?q=%2B7%20999"):
            r = await c.get(path)
            assert r.status_code == 200 and "555-44-33" not in r.text and "phone" not in r.text, (path, r.text)
    # its owner shows it on their profile page: now colleagues see it
    owner = await people("owner")
    await sign_in(owner, owner_email)
    await owner.open("/profile#visibility")
    await owner.page.locator("#v-phone").check()
    await owner.submit("Сохранить видимость", "phone-shown")
    assert "Видимость полей сохранена" in await owner.text()
    await person.open(f"/colleagues/{member_id}", "card-with-phone")
    assert "+7 999 555-44-33" in await person.page.locator("#colleague-card").inner_text()


async def test_an_expired_access_token_is_renewed_behind_the_scenes_and_a_dead_refresh_asks_to_sign_in(people, web):
    _, email = await colleague(web, surname())
    person = await people("renew")
    await sign_in(person, email)
    cookie = await person.session_cookie()
    data = open_session(cookie["value"])
    # the access token no longer verifies (as once it has expired): the page still opens
    data["access"] = data["access"][:-6] + "AAAAAA"
    await person.plant_session(data)
    await person.open("/profile", "renewed")
    assert person.page.url.endswith("/profile")
    renewed = open_session((await person.session_cookie())["value"])
    assert renewed["access"] != data["access"] and renewed["refresh"] != data["refresh"]
    # now the refresh token is dead too: the person signs in again and comes back to the page
    renewed["access"] = renewed["access"][:-6] + "AAAAAA"
    renewed["refresh"] = renewed["refresh"][:-6] + "AAAAAA"  # no longer verifies
    await person.plant_session(renewed)
    await person.open("/colleagues?q=abc", "expired")
    assert "/login?next=" in person.page.url
    assert "Сеанс истёк" in await person.text()
    await person.page.get_by_label("E-mail").fill(email)
    await person.page.get_by_label("Пароль").fill(PASSWORD)
    await person.submit("Войти", "back-after-expiry")
    # two pages loaded at once with one cookie both renew it: the first spends the refresh token, the
    # twin gets the same new pair instead of being signed out
    cookie = await person.session_cookie()
    data = open_session(cookie["value"])
    data["access"] = data["access"][:-6] + "AAAAAA"
    twins = [httpx.AsyncClient(base_url=web.web_url, cookies={"hrm_session": seal_session(data)}) for _ in range(2)]
    answers = await asyncio.gather(*(c.get("/profile") for c in twins))
    for c in twins:
        await c.aclose()
    assert [a.status_code for a in answers] == [200, 200]
    assert person.page.url.endswith("/colleagues?q=abc")


async def test_pages_forbid_foreign_scripts_frames_and_sniffing(web):
    async with Visitor(web) as v:
        r = await v.get("/login")
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["cache-control"] == "no-store"
        assert not re.search(r'(src|href)="(https?:)?//', r.text), "nothing is loaded from elsewhere"


async def test_the_web_client_is_healthy_and_not_ready_without_the_gateway(web):
    async with httpx.AsyncClient(base_url=web.web_url) as c:
        assert (await c.get("/healthz")).json() == {"status": "ok"}
        assert (await c.get("/readyz")).status_code == 200
    from services.web.app import create_app

    lonely = create_app(web.web_settings.model_copy(update={"gateway_url": "http://127.0.0.1:9"}))
    async with lonely.router.lifespan_context(lonely):
        transport = httpx.ASGITransport(app=lonely)
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as c:
            r = await c.get("/readyz")
            assert r.status_code == 503 and r.json()["reason"] == "gateway_unreachable"
            r = await c.get("/login")
            assert r.status_code == 200  # the sign-in form needs no gateway
            token = CSRF.search(r.text).group(1)
            r = await c.post("/login", data={"csrf": token, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
            assert r.status_code == 503 and "Сервис временно недоступен" in r.text
