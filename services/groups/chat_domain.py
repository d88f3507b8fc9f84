"""Chat deciders: a message (posted, edited, deleted, reacted to), a member's read marks in a group, a
conversation between two members, and a member's blocklist. What a decider cannot know (the group's
state, whether a thread exists, who is in the Main group) the handler finds and passes in as facts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from libs.contracts.base import Event
from libs.contracts.chat import (
    BLOCKLIST_EVENTS,
    CONVERSATION_EVENTS,
    MAX_MENTIONS,
    MESSAGE_EVENTS,
    SERVICE,
    ConversationMarkedRead,
    DirectMessageSent,
    MemberBlocked,
    MemberUnblocked,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionWithdrawn,
    ReadMarkMoved,
)
from libs.contracts.envelope import Actor
from libs.contracts.errors import Conflict, Forbidden, Invalid, NotFound
from libs.kit.decider import Decider

#: ``@[Shown name](member_id)`` names one member; ``@all`` or ``@все`` the whole group
_MENTION = re.compile(r"@\[[^\]\n]{0,200}\]\(([A-Za-z0-9_-]{1,64})\)")
_EVERYONE = re.compile(r"(?<![\w@])@(all|все)(?!\w)", re.IGNORECASE)


def mentions_in(text: str) -> tuple[tuple[str, ...], bool]:
    """The members a text names (each once, in order) and whether it names the whole group."""
    named = tuple(dict.fromkeys(_MENTION.findall(text)))
    return named, bool(_EVERYONE.search(text))


@dataclass(frozen=True)
class GroupFacts:
    """What the handler read of the group (its own aggregate, so never stale) for one decision."""

    exists: bool
    status: str | None
    is_member: bool
    members: frozenset[str] = frozenset()
    #: coordinators of the group or a moderator: may delete anyone's message
    may_moderate: bool = False


def _seen(group: GroupFacts, group_id: str) -> None:
    """A group the caller may not see does not exist for them."""
    if not group.exists:
        raise NotFound("group_not_found", group_id=group_id)


def _writable(group: GroupFacts, group_id: str) -> None:
    _seen(group, group_id)
    if not group.is_member:
        raise Forbidden("group_members_only")
    if group.status == "archived":
        raise Conflict("group_archived", group_id=group_id)
    if group.status != "active":
        raise Conflict("group_not_active", group_id=group_id, status=group.status)


# ---------------------------------------------------------------- a message


@dataclass(frozen=True)
class Message:
    exists: bool = False
    group_id: str | None = None
    author_id: str | None = None
    thread_id: str | None = None
    deleted: bool = False
    reactions: frozenset[tuple[str, str]] = frozenset()


def evolve_message(state: Message, event: Event) -> Message:
    match event:
        case MessagePosted():
            return Message(True, event.group_id, event.author_id, event.thread_id)
        case MessageDeleted():
            return replace(state, deleted=True)
        case ReactionAdded():
            return replace(state, reactions=state.reactions | {(event.member_id, event.reaction)})
        case ReactionWithdrawn():
            return replace(state, reactions=state.reactions - {(event.member_id, event.reaction)})
    return state


@dataclass(frozen=True)
class Post:
    actor: Actor
    message_id: str
    group_id: str
    text: str
    group: GroupFacts
    #: the thread's first message as loaded (None for the group's flow)
    thread_id: str | None = None
    root: Message | None = None


@dataclass(frozen=True)
class Edit:
    actor: Actor
    group_id: str
    message_id: str
    text: str
    group: GroupFacts


@dataclass(frozen=True)
class Delete:
    actor: Actor
    group_id: str
    message_id: str
    group: GroupFacts


@dataclass(frozen=True)
class React:
    actor: Actor
    group_id: str
    message_id: str
    reaction: str
    on: bool
    group: GroupFacts


MessageCommand = Post | Edit | Delete | React


def _named(text: str, group: GroupFacts, author: str) -> tuple[tuple[str, ...], bool]:
    """Only the group's members can be named (not the author): a name of anyone else reaches nobody."""
    named, everyone = mentions_in(text)
    kept = tuple(m for m in named if m in group.members and m != author)
    if len(kept) > MAX_MENTIONS:
        raise Invalid("too_many_mentions", limit=MAX_MENTIONS)
    return kept, everyone


def _existing(state: Message, group_id: str) -> None:
    if not state.exists or state.group_id != group_id or state.deleted:
        raise NotFound("message_not_found")


def decide_message(cmd: MessageCommand, state: Message) -> list[Event]:  # noqa: C901 — one rule per case
    match cmd:
        case Post():
            _writable(cmd.group, cmd.group_id)
            if state.exists:
                return []  # the same message again: once
            if cmd.thread_id is not None:
                root = cmd.root or Message()
                if not root.exists or root.group_id != cmd.group_id or root.deleted or root.thread_id is not None:
                    raise NotFound("thread_not_found")
            named, everyone = _named(cmd.text, cmd.group, cmd.actor.id)
            return [MessagePosted(message_id=cmd.message_id, group_id=cmd.group_id, author_id=cmd.actor.id,
                                  thread_id=cmd.thread_id, text=cmd.text, mentions=named, mentions_all=everyone)]
        case Edit():
            _seen(cmd.group, cmd.group_id)
            _existing(state, cmd.group_id)
            if state.author_id != cmd.actor.id:
                raise Forbidden("not_your_message")
            _writable(cmd.group, cmd.group_id)
            named, everyone = _named(cmd.text, cmd.group, cmd.actor.id)
            return [MessageEdited(message_id=cmd.message_id, group_id=cmd.group_id, author_id=cmd.actor.id,
                                  thread_id=state.thread_id, text=cmd.text, mentions=named, mentions_all=everyone)]
        case Delete():
            _seen(cmd.group, cmd.group_id)
            if state.exists and state.group_id == cmd.group_id and state.deleted:
                return []  # deleted already: the same answer, nothing new
            _existing(state, cmd.group_id)
            if state.author_id != cmd.actor.id and not cmd.group.may_moderate:
                raise Forbidden("not_your_message")
            if state.author_id == cmd.actor.id and not cmd.group.is_member and not cmd.group.may_moderate:
                raise Forbidden("group_members_only")
            return [MessageDeleted(message_id=cmd.message_id, group_id=cmd.group_id, thread_id=state.thread_id,
                                   deleted_by=cmd.actor.id)]
        case React():
            _writable(cmd.group, cmd.group_id)
            _existing(state, cmd.group_id)
            held = (cmd.actor.id, cmd.reaction) in state.reactions
            if cmd.on == held:
                return []
            kind = ReactionAdded if cmd.on else ReactionWithdrawn
            return [kind(message_id=cmd.message_id, group_id=cmd.group_id, thread_id=state.thread_id,
                         member_id=cmd.actor.id, reaction=cmd.reaction)]
    raise TypeError(f"not a message command: {cmd!r}")


MESSAGE: Decider = Decider(SERVICE, "message", Message, evolve_message, decide_message, events=MESSAGE_EVENTS)


# ---------------------------------------------------------------- a member's read marks in one group


@dataclass(frozen=True)
class ReadMarks:
    #: thread id ("" for the group's flow) -> position read up to
    marks: dict[str, int] = field(default_factory=dict)


def evolve_read_marks(state: ReadMarks, event: Event) -> ReadMarks:
    if isinstance(event, ReadMarkMoved):
        return ReadMarks({**state.marks, event.thread_id or "": event.up_to})
    return state


@dataclass(frozen=True)
class MoveMark:
    actor: Actor
    group_id: str
    thread_id: str | None
    #: already clamped by the handler to the newest position of that flow
    up_to: int
    #: the caller is in the group: only members keep marks (only their unread is counted)
    may_read: bool


def decide_read_marks(cmd: MoveMark, state: ReadMarks) -> list[Event]:
    match cmd:
        case MoveMark():
            if not cmd.may_read:
                raise Forbidden("group_members_only")
            if cmd.up_to <= state.marks.get(cmd.thread_id or "", 0):
                return []  # a mark never moves back: another device read further already
            return [ReadMarkMoved(group_id=cmd.group_id, member_id=cmd.actor.id, thread_id=cmd.thread_id,
                                  up_to=cmd.up_to)]
    raise TypeError(f"not a read-mark command: {cmd!r}")


READ_MARK: Decider = Decider(SERVICE, "read_mark", ReadMarks, evolve_read_marks, decide_read_marks,
                             events=(ReadMarkMoved,))


# ---------------------------------------------------------------- a conversation between two members


@dataclass(frozen=True)
class Conversation:
    messages: frozenset[str] = frozenset()
    marks: dict[str, int] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.messages)


def evolve_conversation(state: Conversation, event: Event) -> Conversation:
    match event:
        case DirectMessageSent():
            return replace(state, messages=state.messages | {event.message_id})
        case ConversationMarkedRead():
            return replace(state, marks={**state.marks, event.member_id: event.up_to})
    return state


@dataclass(frozen=True)
class PeerFacts:
    """Who may write to whom: read by the handler from the Main group and both blocklists."""

    sender_in_main: bool
    recipient_in_main: bool
    recipient_exists: bool
    blocked_by_recipient: bool
    blocked_by_sender: bool


@dataclass(frozen=True)
class Send:
    actor: Actor
    conversation_id: str
    message_id: str
    recipient_id: str
    text: str
    peers: PeerFacts


@dataclass(frozen=True)
class ReadConversation:
    actor: Actor
    conversation_id: str
    up_to: int


def decide_conversation(cmd: Send | ReadConversation, state: Conversation) -> list[Event]:
    match cmd:
        case Send():
            p = cmd.peers
            if cmd.recipient_id == cmd.actor.id:
                raise Invalid("cannot_message_yourself")
            if not p.recipient_exists:
                raise NotFound("member_not_found")
            if cmd.message_id in state.messages:
                return []
            # Main-group members write to each other; a moderator also to a guest; a guest answers a
            # conversation someone else began, and never writes first to a stranger
            if not (p.sender_in_main or cmd.actor.is_moderator or state.exists):
                raise Forbidden("main_group_only")
            if not (p.recipient_in_main or cmd.actor.is_moderator or state.exists):
                raise Forbidden("recipient_not_in_main_group")
            if p.blocked_by_recipient:
                raise Forbidden("blocked_by_member")
            if p.blocked_by_sender:
                raise Conflict("member_blocked_by_you")
            return [DirectMessageSent(conversation_id=cmd.conversation_id, message_id=cmd.message_id,
                                      sender_id=cmd.actor.id, recipient_id=cmd.recipient_id, text=cmd.text)]
        case ReadConversation():
            if cmd.up_to <= state.marks.get(cmd.actor.id, 0):
                return []
            return [ConversationMarkedRead(conversation_id=cmd.conversation_id, member_id=cmd.actor.id,
                                           up_to=cmd.up_to)]
    raise TypeError(f"not a conversation command: {cmd!r}")


CONVERSATION: Decider = Decider(SERVICE, "conversation", Conversation, evolve_conversation, decide_conversation,
                                events=CONVERSATION_EVENTS)


# ---------------------------------------------------------------- a member's blocklist


@dataclass(frozen=True)
class Blocklist:
    blocked: frozenset[str] = frozenset()


def evolve_blocklist(state: Blocklist, event: Event) -> Blocklist:
    match event:
        case MemberBlocked():
            return Blocklist(state.blocked | {event.blocked_id})
        case MemberUnblocked():
            return Blocklist(state.blocked - {event.blocked_id})
    return state


@dataclass(frozen=True)
class SetBlocked:
    actor: Actor
    member_id: str
    blocked: bool
    member_exists: bool


def decide_blocklist(cmd: SetBlocked, state: Blocklist) -> list[Event]:
    match cmd:
        case SetBlocked():
            if cmd.member_id == cmd.actor.id:
                raise Invalid("cannot_block_yourself")
            if (cmd.member_id in state.blocked) == cmd.blocked:
                return []
            if cmd.blocked and not cmd.member_exists:
                raise NotFound("member_not_found")
            kind = MemberBlocked if cmd.blocked else MemberUnblocked
            return [kind(member_id=cmd.actor.id, blocked_id=cmd.member_id)]
    raise TypeError(f"not a blocklist command: {cmd!r}")


BLOCKLIST: Decider = Decider(SERVICE, "blocklist", Blocklist, evolve_blocklist, decide_blocklist,
                             events=BLOCKLIST_EVENTS)
