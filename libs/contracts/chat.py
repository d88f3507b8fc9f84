"""Groups, chat part: a working group's messages (threads, mentions, reactions), where each member has
read up to, personal messages between members, and the member's live stream of what concerns them.

The groups service owns all of it (its contracts list these in ``libs/contracts/groups.py``): a chat
lives and dies with its group's membership. Messages are their authors' personal data (DESIGN.md §2):
the text is sealed with the author's key and reads as None once the author is erased.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from libs.contracts.base import Command, Contract, Event, Query
from libs.contracts.types import MULTI_LINE, ONE_LINE, Id

SERVICE = "groups"
#: what a reaction may be: a short fixed set, so a reaction is never a message in disguise
REACTIONS = ("👍", "❤️", "😂", "🎉", "🤔", "🙏", "👀", "✅")
Reaction = Literal["👍", "❤️", "😂", "🎉", "🤔", "🙏", "👀", "✅"]
ChatText = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=r"\S"), MULTI_LINE]
ChatSearch = Annotated[str, StringConstraints(min_length=1, max_length=100), ONE_LINE]
#: a place in a chat: the log position of a message (opaque to clients, compared as numbers)
Cursor = Annotated[int, Field(ge=0, le=2**53)]
#: members one message may name at most (beyond it, @all is what the author means)
MAX_MENTIONS = 50


def conversation_id(a: str, b: str) -> str:
    """Two members' conversation, the same whoever writes first."""
    first, second = sorted((a, b))
    return f"{first}:{second}"


def read_mark_id(group_id: str, member_id: str) -> str:
    return f"{group_id}:{member_id}"


# ---------------------------------------------------------------- events (aggregate ``message``)


class MessageWords(Event):
    """What a message says and whom it names (the fields of its posting and of each edit): the text is
    its author's, sealed with their key."""

    pii_fields: ClassVar[frozenset[str]] = frozenset({"text"})
    pii_subject_field: ClassVar[str] = "author_id"
    message_id: str
    group_id: str
    author_id: str
    #: the thread's first message, for a reply; None for a message of the group's main flow
    thread_id: str | None = None
    text: str | None = None
    mentions: tuple[str, ...] = ()
    mentions_all: bool = False


class MessagePosted(MessageWords):
    pass


class MessageEdited(MessageWords):
    pass


class MessageDeleted(Event):
    message_id: str
    group_id: str
    thread_id: str | None = None
    deleted_by: str


class ReactionAdded(Event):
    message_id: str
    group_id: str
    thread_id: str | None = None
    member_id: str
    reaction: str


class ReactionWithdrawn(Event):
    message_id: str
    group_id: str
    thread_id: str | None = None
    member_id: str
    reaction: str


MESSAGE_EVENTS = (MessagePosted, MessageEdited, MessageDeleted, ReactionAdded, ReactionWithdrawn)


# ---------------------------------------------------------------- events (aggregate ``read_mark``: group:member)


class ReadMarkMoved(Event):
    """The member has read the group's flow (thread_id None) or one thread up to ``up_to``: stored by
    the platform, so the mark follows the member to every device. It only moves forward."""

    group_id: str
    member_id: str
    thread_id: str | None = None
    up_to: int


# ---------------------------------------------------------------- events (aggregate ``conversation``: a:b)


class DirectMessageSent(Event):
    pii_fields: ClassVar[frozenset[str]] = frozenset({"text"})
    pii_subject_field: ClassVar[str] = "sender_id"
    conversation_id: str
    message_id: str
    sender_id: str
    recipient_id: str
    text: str | None = None


class ConversationMarkedRead(Event):
    conversation_id: str
    member_id: str
    up_to: int


CONVERSATION_EVENTS = (DirectMessageSent, ConversationMarkedRead)


# ---------------------------------------------------------------- events (aggregate ``blocklist``: member)


class MemberBlocked(Event):
    member_id: str
    blocked_id: str


class MemberUnblocked(Event):
    member_id: str
    blocked_id: str


BLOCKLIST_EVENTS = (MemberBlocked, MemberUnblocked)
CHAT_EVENTS = (*MESSAGE_EVENTS, ReadMarkMoved, *CONVERSATION_EVENTS, *BLOCKLIST_EVENTS)


# ---------------------------------------------------------------- replies


class MessageReply(Contract):
    group_id: str
    message_id: str
    thread_id: str | None = None


class ReadMarkReply(Contract):
    group_id: str
    thread_id: str | None
    #: where the mark stands now (a mark never moves back: an older one leaves it where it was)
    up_to: int
    unread: int


class DirectMessageReply(Contract):
    conversation_id: str
    message_id: str
    member_id: str


class ConversationReadReply(Contract):
    member_id: str
    up_to: int


class BlockReply(Contract):
    member_id: str
    blocked: bool


class ReactionCount(Contract):
    reaction: str
    count: int
    #: the caller is among them
    mine: bool


class ChatMessage(Contract):
    message_id: str
    group_id: str
    thread_id: str | None
    #: None once its author is erased: then the message reads as written by a deleted member
    author_id: str | None
    author_name: str | None
    #: None when deleted or its author erased
    text: str | None
    deleted: bool
    edited: bool
    posted_at: datetime
    #: its place in the chat: pagination cursors and read marks are these
    position: int
    mentions: tuple[str, ...] = ()
    mentions_all: bool = False
    #: the caller is named in it (or the whole group is)
    mentions_me: bool = False
    reactions: tuple[ReactionCount, ...] = ()
    #: for a thread's first message: its replies, and how many of them the caller has not read
    replies: int = 0
    unread_replies: int = 0


class MessagePage(Contract):
    group_id: str
    thread_id: str | None
    #: oldest first
    items: tuple[ChatMessage, ...]
    #: pass as ``before`` for older messages, as ``after`` for newer ones; None when there are none
    before: int | None
    after: int | None
    #: the caller's read mark in this flow (or thread)
    read_up_to: int
    #: the thread's first message, when a thread is listed
    root: ChatMessage | None = None


class SearchHits(Contract):
    group_id: str
    items: tuple[ChatMessage, ...]


class GroupUnread(Contract):
    group_id: str
    title: str
    #: messages of others in the flow after the member's mark, plus replies after their marks in the
    #: threads the member follows (started, replied to or was named in)
    unread: int
    #: of those and of any thread, the ones naming the member (or the whole group)
    mentions: int


class ConversationUnread(Contract):
    member_id: str
    unread: int


class UnreadSummary(Contract):
    groups: tuple[GroupUnread, ...]
    conversations: tuple[ConversationUnread, ...]
    total: int
    mentions: int
    #: where the member's live stream stands as these counts are read: open it after this position
    #: (Last-Event-ID) and nothing said in between is missed
    stream_position: int = 0


class ConversationSummary(Contract):
    member_id: str
    display_name: str | None
    last_at: datetime
    unread: int
    #: the caller has blocked this member
    blocked: bool


class ConversationList(Contract):
    items: tuple[ConversationSummary, ...]


class DirectMessageView(Contract):
    message_id: str
    sender_id: str | None
    sender_name: str | None
    text: str | None
    sent_at: datetime
    position: int


class DirectMessagePage(Contract):
    member_id: str
    display_name: str | None
    items: tuple[DirectMessageView, ...]
    before: int | None
    after: int | None
    read_up_to: int
    #: the caller has blocked them / they have blocked the caller (then nothing can be sent)
    blocked: bool
    blocked_me: bool


class StreamItem(Contract):
    """One thing the member's stream tells: its ``id`` is the stream position (SSE's Last-Event-ID)."""

    id: int
    kind: Literal["message_posted", "message_edited", "message_deleted", "reaction_changed", "read",
                  "direct_message", "conversation_read", "reset", "task_assigned", "calendar_event_changed",
                  "calendar_event_cancelled", "calendar_waitlist_promoted", "notification"]
    group_id: str | None = None
    thread_id: str | None = None
    message: ChatMessage | None = None
    message_id: str | None = None
    #: the other member of a conversation
    member_id: str | None = None
    direct: DirectMessageView | None = None
    #: the member's unread in that group (or conversation) after this, and unread mentions
    unread: int | None = None
    mentions: int | None = None
    #: the message names this member (or the whole group)
    mentioned: bool = False
    up_to: int | None = None
    #: the event it tells of: the same event is told once (a client may drop one it has seen)
    event_id: str | None = None
    #: for a reply posted or deleted: its thread's replies now
    thread_replies: int | None = None
    #: for a task assigned to the member (libs/contracts/tasks.py): the task, its title and due date
    task_id: str | None = None
    title: str | None = None
    due: date | None = None
    #: for an event of the calendar (libs/contracts/calendar.py) that changed, was cancelled, or gave the
    #: member a place from the waitlist: its season, its id, its start (UTC) and revision
    season_id: str | None = None
    calendar_event_id: str | None = None
    starts_at: datetime | None = None
    revision: int | None = None
    #: for a notification (libs/contracts/notifications.py): its id and kind; the page of notifications
    #: says the rest in the member's language
    notification_id: str | None = None
    notification_kind: str | None = None


class StreamPage(Contract):
    items: tuple[StreamItem, ...]
    #: the position to resume after
    last_id: int


# ---------------------------------------------------------------- commands


class ChatCommand(Command):
    service: ClassVar[str] = SERVICE


class PostMessage(ChatCommand):
    """A member writes in the group's flow, or replies in a thread (``thread_id``: its first message).
    ``@[Name](member_id)`` names a member; ``@all`` (``@все``) the whole group."""

    reply_model: ClassVar = MessageReply
    group_id: Id
    text: ChatText
    thread_id: Id | None = None


class EditMessage(ChatCommand):
    reply_model: ClassVar = MessageReply
    group_id: Id
    message_id: Id
    text: ChatText


class DeleteMessage(ChatCommand):
    """The author deletes their message; the group's coordinators and moderators delete any."""

    reply_model: ClassVar = MessageReply
    group_id: Id
    message_id: Id


class ReactToMessage(ChatCommand):
    reply_model: ClassVar = MessageReply
    group_id: Id
    message_id: Id
    reaction: Reaction
    #: False withdraws the caller's reaction
    on: bool = True


class MarkRead(ChatCommand):
    reply_model: ClassVar = ReadMarkReply
    group_id: Id
    thread_id: Id | None = None
    up_to: Cursor


class SendDirectMessage(ChatCommand):
    reply_model: ClassVar = DirectMessageReply
    member_id: Id
    text: ChatText


class MarkConversationRead(ChatCommand):
    reply_model: ClassVar = ConversationReadReply
    member_id: Id
    up_to: Cursor


class BlockMember(ChatCommand):
    reply_model: ClassVar = BlockReply
    member_id: Id


class UnblockMember(ChatCommand):
    reply_model: ClassVar = BlockReply
    member_id: Id


# ---------------------------------------------------------------- queries


class ChatQuery(Query):
    service: ClassVar[str] = SERVICE


class ListMessages(ChatQuery):
    """The newest page, or the page ``before`` or ``after`` a position (never both)."""

    reply_model: ClassVar = MessagePage
    group_id: Id
    thread_id: Id | None = None
    before: Cursor | None = None
    after: Cursor | None = None
    limit: int = Field(default=50, ge=1, le=200)


class SearchMessages(ChatQuery):
    reply_model: ClassVar = SearchHits
    group_id: Id
    q: ChatSearch
    limit: int = Field(default=50, ge=1, le=200)


class GetUnread(ChatQuery):
    reply_model: ClassVar = UnreadSummary


class ListConversations(ChatQuery):
    reply_model: ClassVar = ConversationList


class ListDirectMessages(ChatQuery):
    reply_model: ClassVar = DirectMessagePage
    member_id: Id
    before: Cursor | None = None
    after: Cursor | None = None
    limit: int = Field(default=50, ge=1, le=200)


class ReadStream(ChatQuery):
    """The caller's own stream after a position; without one, nothing yet and where it stands now."""

    reply_model: ClassVar = StreamPage
    after: Cursor | None = None
    limit: int = Field(default=100, ge=1, le=500)


CHAT_COMMANDS = (PostMessage, EditMessage, DeleteMessage, ReactToMessage, MarkRead, SendDirectMessage,
                 MarkConversationRead, BlockMember, UnblockMember)
CHAT_QUERIES = (ListMessages, SearchMessages, GetUnread, ListConversations, ListDirectMessages, ReadStream)
CHAT_REPLIES = (MessageReply, ReadMarkReply, DirectMessageReply, ConversationReadReply, BlockReply, ReactionCount,
                ChatMessage, MessagePage, SearchHits, GroupUnread, ConversationUnread, UnreadSummary,
                ConversationSummary, ConversationList, DirectMessageView, DirectMessagePage, StreamItem, StreamPage)
