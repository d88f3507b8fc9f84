"""The browser suite: Playwright driving Debian's Chromium, headless, against the real platform
(nats-server, the services, the gateway and the web client, each really started).

Without a Chromium the suite is skipped, and the test run says so loudly at its end
(tests/conftest.py). Each page a test visits is saved as a screenshot under test-artifacts/web/.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.platform_harness import WEB_SESSION_KEY, Platform

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
CHROMIUM = os.environ.get("HRM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: what a skipped browser test says: the run's summary looks for it (in every worker's reports)
NOT_RUN = "BROWSER SUITE NOT RUN"


def chromium_path() -> str | None:
    return CHROMIUM if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK) else None


@pytest.fixture(scope="session")
async def browser():
    path = chromium_path()
    if path is None:
        pytest.skip(f"{NOT_RUN}: no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=path, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        yield b
        await b.close()


@pytest.fixture(scope="session")
async def web(platform: Platform) -> Platform:
    return await platform.start_web()


class Person:
    """One browser context: its own cookies, like a person on their own device."""

    def __init__(self, context, page, base: str, name: str):
        self.context, self.page, self.base, self.name = context, page, base, name
        self.js_errors: list[str] = []
        self.shots = 0
        page.on("pageerror", lambda e: self.js_errors.append(str(e)))
        # a page's own status (403, 410...) is what the test asserts; an asset that fails to load is an error
        page.on("console", lambda m: self.js_errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        page.on("response", lambda r: self.js_errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.request.resource_type != "document" else None)

    async def open(self, path: str, shot: str | None = None):
        response = await self.page.goto(self.base + path)
        await self.shoot(shot or path)
        return response

    async def shoot(self, label: str) -> None:
        """A screenshot of what the person sees now (test-artifacts/web/<person>-<n>-<label>.png)."""
        self.shots += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", label).strip("_")[:60] or "page"
        await self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.shots:02d}-{safe}.png"), full_page=True)

    async def submit(self, button_text: str | None = None, shot: str | None = None):
        """Press the form's button and wait for the page it leads to."""
        async with self.page.expect_navigation():
            if button_text:
                await self.page.get_by_role("button", name=button_text, exact=True).click()
            else:
                await self.page.locator("main form button[type=submit]").first.click()
        await self.shoot(shot or self.page.url.split("/", 3)[-1])

    async def text(self) -> str:
        return await self.page.locator("main").inner_text()

    async def plant_session(self, data: dict) -> None:
        """Put a session of the test's making in the browser, in place of whatever it held."""
        await self.context.clear_cookies()
        await self.context.add_cookies([{"name": "hrm_session", "value": seal_session(data), "url": self.base,
                                         "httpOnly": True, "sameSite": "Lax"}])

    async def session_cookie(self) -> dict | None:
        return next((c for c in await self.context.cookies() if c["name"] == "hrm_session"), None)


@pytest.fixture
async def people(browser, web):
    """people("newcomer") -> a Person with a fresh context; every context is closed after the test, and
    a page with a JavaScript error fails it."""
    made: list[Person] = []

    async def make(name: str, width: int = 1280, height: int = 900, locale: str = "ru-RU") -> Person:
        context = await browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        page = await context.new_page()
        page.set_default_timeout(20_000)
        person = Person(context, page, web.web_url, name)
        made.append(person)
        return person

    yield make
    errors = {p.name: p.js_errors for p in made if p.js_errors}
    for p in made:
        await p.context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"


def open_session(cookie_value: str) -> dict:
    """What a session cookie holds (the tests know the key), to forge or spoil it as an attacker might."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.urlsafe_b64decode(cookie_value + "=" * (-len(cookie_value) % 4))
    return json.loads(AESGCM(base64.b64decode(WEB_SESSION_KEY)).decrypt(raw[:12], raw[12:], b"hrm-web-session-v1"))


def seal_session(data: dict) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(base64.b64decode(WEB_SESSION_KEY)).encrypt(nonce, json.dumps(data).encode(), b"hrm-web-session-v1")
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
