"""A member erased while the contacts projection held their registration (read before the key was shredded,
sealed after: the store was locked, the projection behind) leaves no address and no stall: the seal refused
for a shredded key keeps nothing, as a rebuild after the erasure does. It stalled the projection for good
(and with it every policy waiting for it) — found by the chaos suite's locked-store scenario."""

from __future__ import annotations

from libs.contracts.errors import NotFound
from services.notifications.projections import CONTACTS
from tests.e2e.helpers import settle
from tests.e2e.journey import admin_token, invite, register

NTF = "notifications"
ADDRESS = "erased-meanwhile@example.ru"


async def test_a_registration_sealed_after_the_members_key_was_shredded_keeps_nothing(platform, monkeypatch):
    svc = platform.services[NTF]
    admin = await admin_token(platform)
    inv = await invite(platform, admin)
    shredded: set[str] = set()
    real_seal = svc.vault.seal

    async def seal(subject, fields, aad, **kw):
        if fields.get("email") == ADDRESS:  # the key shredded between the event's reading and this seal
            shredded.add(subject)
            raise NotFound("member_not_found")  # as the vault says for a shredded key
        return await real_seal(subject, fields, aad, **kw)

    monkeypatch.setattr(svc.vault, "seal", seal)
    member_id, _, _ = await register(platform, inv["token"], email=ADDRESS)
    await settle(platform)  # the projection went on: no stall
    assert shredded == {member_id}
    assert await svc.store.get(CONTACTS, member_id) is None
    [contacts] = [r for r in svc.runners if r.c.name == "contacts"]
    assert (await contacts.status())["state"] == "running"
