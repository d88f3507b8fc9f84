"""Chat deciders: given events / when a command / then events (or a refusal)."""

from __future__ import annotations

import pytest

from libs.contracts import chat as c
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.kit.decider import given
from services.groups.chat_domain import (
    BLOCKLIST,
    CONVERSATION,
    MESSAGE,
    READ_MARK,
    Delete,
    Edit,
    GroupFacts,
    MoveMark,
    PeerFacts,
    Post,
    React,
    ReadConversation,
    Send,
    SetBlocked,
    mentions_in,
)

G = "g-1"
ANNA, BORIS, VERA = Actor(id="anna"), Actor(id="boris"), Actor(id="vera")
MODERATOR = Actor(id="mod", roles=("moderator",))
MEMBERS = frozenset({"anna", "boris"})
ACTIVE = GroupFacts(True, "active", True, MEMBERS)
OUTSIDE = GroupFacts(True, "active", False, MEMBERS)
COORDINATING = GroupFacts(True, "active", True, MEMBERS, may_moderate=True)
posted = c.MessagePosted(message_id="m-1", group_id=G, author_id="anna", text="Привет")


def post(text: str = "Привет", group: GroupFacts = ACTIVE, actor: Actor = ANNA, **kw) -> Post:
    return Post(actor, "m-1", G, text, group, **kw)


def test_a_member_posts_once_and_names_only_members():
    text = "@[Борис](boris) и @[Гость](stranger), @[Я](anna) — @all"
    then = c.MessagePosted(message_id="m-1", group_id=G, author_id="anna", text=text, mentions=("boris",),
                           mentions_all=True)
    state = given(MESSAGE).when(post(text)).then(then)
    given(MESSAGE, then).when(post(text)).then()  # the same message again: once
    assert state.author_id == "anna"


@pytest.mark.parametrize("text,named,everyone", [
    ("нет упоминаний", (), False),
    ("email@all.ru", (), False),
    ("@всем привет", (), False),
    ("@Все сюда", (), True),
    ("@[А](x1) @[Б](x1) @[В](x2)", ("x1", "x2"), False),
    ("@[](x1)", ("x1",), False),
    ("@[A](bad.id)", (), False),
])
def test_mentions_are_read_from_the_text(text, named, everyone):
    assert mentions_in(text) == (named, everyone)


@pytest.mark.parametrize("group,error,code", [
    (GroupFacts(False, None, False), NotFound, "group_not_found"),
    (OUTSIDE, Forbidden, "group_members_only"),
    (GroupFacts(True, "archived", True, MEMBERS), Conflict, "group_archived"),
    (GroupFacts(True, "proposed", True, MEMBERS), Conflict, "group_not_active"),
])
def test_only_members_of_an_active_group_post(group, error, code):
    given(MESSAGE).when(post(group=group)).refused(error, code)


def test_a_reply_needs_a_live_first_message_of_the_same_group():
    root = given(MESSAGE, posted).state
    reply = c.MessagePosted(message_id="m-1", group_id=G, author_id="anna", text="Да", thread_id="r")
    given(MESSAGE).when(post("Да", thread_id="r", root=root)).then(reply)
    for bad_root in (None, given(MESSAGE, posted, c.MessageDeleted(message_id="m-1", group_id=G,
                                                                   deleted_by="anna")).state,
                     given(MESSAGE, c.MessagePosted(message_id="m-1", group_id="other", author_id="anna",
                                                    text="x")).state,
                     given(MESSAGE, c.MessagePosted(message_id="m-1", group_id=G, author_id="anna", text="x",
                                                    thread_id="t")).state):
        given(MESSAGE).when(post("Да", thread_id="r", root=bad_root)).refused(NotFound, "thread_not_found")


def test_only_the_author_edits_and_never_a_deleted_message():
    given(MESSAGE, posted).when(Edit(BORIS, G, "m-1", "Чужое", ACTIVE)).refused(Forbidden, "not_your_message")
    given(MESSAGE, posted).when(Edit(MODERATOR, G, "m-1", "Чужое", COORDINATING)).refused(
        Forbidden, "not_your_message")
    given(MESSAGE, posted).when(Edit(ANNA, G, "m-1", "Иначе", ACTIVE)).then(
        c.MessageEdited(message_id="m-1", group_id=G, author_id="anna", text="Иначе"))
    deleted = c.MessageDeleted(message_id="m-1", group_id=G, deleted_by="anna")
    given(MESSAGE, posted, deleted).when(Edit(ANNA, G, "m-1", "Иначе", ACTIVE)).refused(NotFound, "message_not_found")
    # another group's message is not found through this one
    given(MESSAGE, posted).when(Edit(ANNA, "g-2", "m-1", "Иначе", ACTIVE)).refused(NotFound, "message_not_found")


def test_the_author_and_the_groups_coordinators_delete_once():
    deleted = c.MessageDeleted(message_id="m-1", group_id=G, deleted_by="boris")
    given(MESSAGE, posted).when(Delete(BORIS, G, "m-1", ACTIVE)).refused(Forbidden, "not_your_message")
    given(MESSAGE, posted).when(Delete(BORIS, G, "m-1", COORDINATING)).then(deleted)
    given(MESSAGE, posted, deleted).when(Delete(ANNA, G, "m-1", ACTIVE)).then()
    given(MESSAGE, posted).when(Delete(ANNA, G, "m-1", GroupFacts(False, None, False))).refused(
        NotFound, "group_not_found")


def test_a_reaction_is_once_per_member_and_kind():
    added = c.ReactionAdded(message_id="m-1", group_id=G, member_id="boris", reaction="👍")
    given(MESSAGE, posted).when(React(BORIS, G, "m-1", "👍", True, ACTIVE)).then(added)
    given(MESSAGE, posted, added).when(React(BORIS, G, "m-1", "👍", True, ACTIVE)).then()
    given(MESSAGE, posted, added).when(React(BORIS, G, "m-1", "👍", False, ACTIVE)).then(
        c.ReactionWithdrawn(message_id="m-1", group_id=G, member_id="boris", reaction="👍"))
    given(MESSAGE, posted).when(React(VERA, G, "m-1", "👍", True, OUTSIDE)).refused(Forbidden, "group_members_only")


def test_a_read_mark_only_moves_forward_and_only_for_members():
    moved = c.ReadMarkMoved(group_id=G, member_id="anna", up_to=10)
    given(READ_MARK).when(MoveMark(ANNA, G, None, 10, True)).then(moved)
    given(READ_MARK, moved).when(MoveMark(ANNA, G, None, 9, True)).then()
    given(READ_MARK, moved).when(MoveMark(ANNA, G, None, 10, True)).then()
    # a thread's mark is its own
    given(READ_MARK, moved).when(MoveMark(ANNA, G, "t", 5, True)).then(
        c.ReadMarkMoved(group_id=G, member_id="anna", thread_id="t", up_to=5))
    given(READ_MARK).when(MoveMark(VERA, G, None, 10, False)).refused(Forbidden, "group_members_only")


PEERS = PeerFacts(sender_in_main=True, recipient_in_main=True, recipient_exists=True, blocked_by_recipient=False,
                  blocked_by_sender=False)


def send(actor: Actor = ANNA, to: str = "boris", **facts) -> Send:
    return Send(actor, c.conversation_id(actor.id, to), "d-1", to, "Привет", PeerFacts(**{**PEERS.__dict__, **facts}))


def test_members_of_main_write_to_each_other_and_a_block_stops_it():
    sent = c.DirectMessageSent(conversation_id="anna:boris", message_id="d-1", sender_id="anna",
                               recipient_id="boris", text="Привет")
    given(CONVERSATION).when(send()).then(sent)
    given(CONVERSATION, sent).when(send()).then()
    given(CONVERSATION).when(send(blocked_by_recipient=True)).refused(Forbidden, "blocked_by_member")
    given(CONVERSATION).when(send(blocked_by_sender=True)).refused(Conflict, "member_blocked_by_you")
    given(CONVERSATION).when(send(to="anna")).refused(Invalid, "cannot_message_yourself")
    given(CONVERSATION).when(send(recipient_exists=False)).refused(NotFound, "member_not_found")


def test_a_guest_is_written_to_by_moderators_and_answers_them_but_never_begins():
    given(CONVERSATION).when(send(recipient_in_main=False)).refused(Forbidden, "recipient_not_in_main_group")
    given(CONVERSATION).when(send(sender_in_main=False)).refused(Forbidden, "main_group_only")
    begun = c.DirectMessageSent(conversation_id=c.conversation_id("mod", "guest"), message_id="d-0",
                                sender_id="mod", recipient_id="guest", text="Добро пожаловать")
    given(CONVERSATION).when(send(MODERATOR, "guest", recipient_in_main=False)).then(
        c.DirectMessageSent(conversation_id=begun.conversation_id, message_id="d-1", sender_id="mod",
                            recipient_id="guest", text="Привет"))
    given(CONVERSATION, begun).when(send(Actor(id="guest"), "mod", sender_in_main=False)).then(
        c.DirectMessageSent(conversation_id=begun.conversation_id, message_id="d-1", sender_id="guest",
                            recipient_id="mod", text="Привет"))


def test_a_conversation_mark_moves_forward_only():
    read = c.ConversationMarkedRead(conversation_id="anna:boris", member_id="anna", up_to=7)
    given(CONVERSATION).when(ReadConversation(ANNA, "anna:boris", 7)).then(read)
    given(CONVERSATION, read).when(ReadConversation(ANNA, "anna:boris", 3)).then()
    given(CONVERSATION).when(ReadConversation(ANNA, "anna:boris", 0)).then()


def test_blocking_is_once_and_never_oneself():
    blocked = c.MemberBlocked(member_id="anna", blocked_id="boris")
    given(BLOCKLIST).when(SetBlocked(ANNA, "boris", True, True)).then(blocked)
    given(BLOCKLIST, blocked).when(SetBlocked(ANNA, "boris", True, True)).then()
    given(BLOCKLIST, blocked).when(SetBlocked(ANNA, "boris", False, True)).then(
        c.MemberUnblocked(member_id="anna", blocked_id="boris"))
    given(BLOCKLIST).when(SetBlocked(ANNA, "boris", False, True)).then()
    given(BLOCKLIST).when(SetBlocked(ANNA, "anna", True, True)).refused(Invalid, "cannot_block_yourself")
    given(BLOCKLIST).when(SetBlocked(ANNA, "ghost", True, False)).refused(NotFound, "member_not_found")
