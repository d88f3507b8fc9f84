"""Onboarding's command handlers as a unit: load, decide, append, against the in-memory event
store. No nats-server, no started service: the handler sees only ``Service.load``/``execute``,
which see only the event-store port (libs/kit/eventstore_port.py). The semantics it relies on
(expected sequences, dedup, sealing) are the contract both adapters pass
(tests/kit/test_eventstore_contract.py); what crosses the bus is tested end to end elsewhere.
"""

from __future__ import annotations

import time
import uuid

import pytest

from libs.contracts.envelope import ANONYMOUS, Actor
from libs.contracts.errors import Conflict, Invalid
from libs.contracts.onboarding import (
    SERVICE,
    ConsentGiven,
    InvitationIssued,
    InvitationUsed,
    IssueInvitation,
    MemberRegistered,
    RegisterMember,
)
from libs.kit.memory_eventstore import MemoryEventStore
from libs.kit.rpc import Context
from libs.kit.service import Service
from services.onboarding import handlers as h
from services.onboarding.settings import Settings

ADMIN = Actor(id="admin-1", roles=("admin",))
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"


class Accounts:
    """The e-mail index and password hashing of services/onboarding/accounts.py, in a dict (the real
    one lives in a KV bucket and hashes with argon2: neither is what this test is about)."""

    def __init__(self) -> None:
        self.emails: dict[str, tuple[str, float, int]] = {}

    async def hash_password(self, password: str) -> str:
        return PASSWORD_HASH

    async def reserve_email(self, email: str, member_id: str) -> None:
        if email in self.emails:
            raise Conflict("email_taken")
        self.emails[email] = (member_id, time.time(), 1)

    async def reservation(self, email: str):
        return self.emails.get(email)

    async def take_over_email(self, email: str, member_id: str, revision: int) -> None:
        self.emails[email] = (member_id, time.time(), revision + 1)

    async def release_email(self, email: str) -> None:
        self.emails.pop(email, None)


@pytest.fixture
def onboarding():
    settings = Settings()
    store = MemoryEventStore()
    svc = Service(SERVICE, settings, pii_writer=True, own_actors=True, events=store)
    return h.Deps(svc=svc, accounts=Accounts(), settings=settings), store


def ctx(actor: Actor = ANONYMOUS) -> Context:
    return Context(actor=actor, correlation_id=uuid.uuid4().hex)


async def test_registration_decides_and_appends_against_the_in_memory_store(onboarding):
    deps, store = onboarding
    issued = await h.issue_invitation(IssueInvitation(max_uses=1), ctx(ADMIN), deps)
    token = issued.result.token

    cmd = RegisterMember(invitation_token=token, email="Anna.Petrova@Example.org", password="s3cret-pass",
                         full_name="  Анна Петровна ", consent_personal_data=True)
    done = await h.register_member(cmd, ctx(), deps)
    member_id = done.result.member_id
    assert done.result.status == "introduction"  # in the "Introduction" group, until moderated
    assert deps.accounts.emails["anna.petrova@example.org"][0] == member_id

    invitation = await store.load(h.INVITATION.subject(token))
    assert [type(r.event) for r in invitation.events] == [InvitationIssued, InvitationUsed]
    member = await store.load(h.MEMBER.subject(member_id))
    assert [type(r.event) for r in member.events] == [MemberRegistered, ConsentGiven]
    assert done.seq == member.last_seq  # the consistency token the gateway waits on
    registered = member.events[0]
    assert registered.event.email == "anna.petrova@example.org" and registered.event.full_name == "Анна Петровна"
    assert registered.envelope.actor == member_id
    # sealed on the log, as on JetStream
    raw = store.log.message(registered.seq).data.decode()
    assert "anna.petrova" not in raw and "Анна" not in raw and PASSWORD_HASH not in raw

    # the invitation had one use: the next registration is refused and holds no address
    again = cmd.model_copy(update={"email": "boris@example.org"})
    with pytest.raises(Invalid) as refused:
        await h.register_member(again, ctx(), deps)
    assert refused.value.code == "invitation_exhausted"
    assert "boris@example.org" not in deps.accounts.emails
    assert (await store.load(h.INVITATION.subject(token))).version == 2


async def test_a_registration_racing_another_append_decides_again(onboarding):
    """``execute`` on a conflict: someone appended to the invitation between load and append; the
    expected sequence catches it, the handler reloads and decides on the fresh state."""
    deps, store = onboarding
    token = (await h.issue_invitation(IssueInvitation(max_uses=2), ctx(ADMIN), deps)).result.token
    send = store._send
    raced, answers = [], []

    async def racing(messages):
        if not raced:  # the first append of the registration: another registration gets in first
            raced.append(True)
            subject = h.INVITATION.subject(token)
            await store.append(await store.load(subject), [InvitationUsed(invitation_id=token, member_id="m-other")],
                               h.Meta(actor=None, correlation_id="other"))
        answers.append(await send(messages))
        return answers[-1]

    store._send = racing
    cmd = RegisterMember(invitation_token=token, email="anna@example.org", password="s3cret-pass",
                         full_name="Анна", consent_personal_data=True)
    done = await h.register_member(cmd, ctx(), deps)
    assert [a["error"]["err_code"] for a in answers if "error" in a] == [10071]  # caught, decided again
    uses = [r.event for r in (await store.load(h.INVITATION.subject(token))).events[1:]]
    assert [u.member_id for u in uses] == ["m-other", done.result.member_id]
