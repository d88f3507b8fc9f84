"""The pages' words: every text in both languages, with the same placeholders, and every code a
template asks for exists (a missing one would show its code to a person)."""

from __future__ import annotations

import re
import string
from pathlib import Path

from services.web.texts import TEXTS, text

TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "web" / "templates"


def _fields(words: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(words) if f}


def test_every_text_has_russian_and_english_with_the_same_placeholders():
    for code, (ru, en) in TEXTS.items():
        assert ru.strip() and en.strip(), code
        assert _fields(ru) == _fields(en), code
        assert re.search("[а-яё]", ru.lower()) or code in ("site", "email", "lang_switch", "lang_switch_label"), code


def test_every_code_a_template_names_has_words():
    named = set()
    for page in TEMPLATES.glob("*.html"):
        named |= set(re.findall(r"""t\('([a-z_0-9]*[a-z0-9])'""", page.read_text()))
    assert named and not named - set(TEXTS), named - set(TEXTS)


def test_composed_codes_exist_for_every_status_role_and_decision():
    for status in ("introduction", "pending_review", "changes_requested", "member", "declined", "revoked", "erased"):
        assert f"st_{status}" in TEXTS and f"status_{status}" in TEXTS
    for role in ("guest", "member", "moderator", "observer", "coordinator", "admin"):
        assert f"role_{role}" in TEXTS
    for decision in ("grant", "request_changes", "decline", "revoke"):
        assert f"decision_{decision}" in TEXTS and f"decided_{decision}" in TEXTS
    from services.web.group_pages import ENDING, MY_STATE_MARKS

    assert set(MY_STATE_MARKS.values()) | {done for _, done in ENDING.values()} <= set(TEXTS)
    assert text("queue_total", "en", n=3) == "Waiting for a decision: 3"
    assert text("no-such-code", "ru") == "no-such-code"
