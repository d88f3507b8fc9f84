"""What a notification says, in Russian (the default) and English, in the app and in an e-mail (plain
text and HTML), and where in the web client it leads. Pure: the outbox renders with it, the queries too,
so the page and the e-mail say the same words."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from string import Formatter

#: kind -> (Russian, English); {name} is a param of the notification (missing ones read as "")
TITLES: dict[str, tuple[str, str]] = {
    "access_granted": ("Вам открыт доступ в Главную группу сообщества", "You have been admitted to the Main group"),
    "access_declined": ("Модератор отклонил заявку на вступление", "A moderator declined your application"),
    "changes_requested": ("Модератор просит дополнить профиль", "A moderator asks you to complete your profile"),
    "new_applicant": ("Новая заявка ждёт решения модератора", "A new application waits for a moderator"),
    "join_request": ("Заявка на вступление в группу «{group_title}»", "A request to join \"{group_title}\""),
    "mention": ("Вас упомянули в группе «{group_title}»", "You were mentioned in \"{group_title}\""),
    "personal_message": ("Новое личное сообщение", "A new personal message"),
    "task_assigned": ("Вам назначена задача «{title}»", "You were assigned the task \"{title}\""),
    "task_overdue": ("Срок задачи «{title}» прошёл ({due})", "The task \"{title}\" is overdue (due {due})"),
    "waitlist_promoted": ("Освободилось место: вы записаны на «{title}»",
                          "A place opened: you are registered for \"{title}\""),
    "event_changed": ("Событие «{title}» изменилось", "The event \"{title}\" changed"),
    "event_cancelled": ("Событие «{title}» отменено", "The event \"{title}\" was cancelled"),
    "event_reminder": ("Через {hours} ч: «{title}»", "In {hours} h: \"{title}\""),
    "round_waiting": ("Раунд {round_no} игры «{title}» ждёт вашей обратной связи",
                      "Round {round_no} of \"{title}\" waits for your feedback"),
    "help_request_routed": ("Вам направлен запрос о помощи", "A request for help was routed to you"),
    "help_request_answered": ("Новый ответ в вашем запросе о помощи", "A new answer in your request for help"),
    "pick_window_opened": ("Открыт выбор ролей на сезон {season_id}", "Roles for season {season_id} can be picked"),
}

#: kind -> the web client's path (params substituted)
LINKS: dict[str, str] = {
    "access_granted": "/",
    "access_declined": "/me",
    "changes_requested": "/me/profile",
    "new_applicant": "/moderation",
    "join_request": "/groups/{group_id}",
    "mention": "/groups/{group_id}",
    "personal_message": "/messages",
    "task_assigned": "/groups/{group_id}/tasks",
    "task_overdue": "/groups/{group_id}/tasks",
    "waitlist_promoted": "/calendar",
    "event_changed": "/calendar",
    "event_cancelled": "/calendar",
    "event_reminder": "/calendar",
    "round_waiting": "/feedback/games/{game_id}",
    "help_request_routed": "/feedback/requests/{request_id}",
    "help_request_answered": "/feedback/requests/{request_id}",
    "pick_window_opened": "/roles",
}

KIND_NAMES: dict[str, tuple[str, str]] = {
    "access_granted": ("решение о доступе: открыт", "access granted"),
    "access_declined": ("решение о доступе: отказ", "access declined"),
    "changes_requested": ("просьба дополнить профиль", "profile changes requested"),
    "new_applicant": ("новые заявки (модераторам)", "new applicants (moderators)"),
    "join_request": ("заявки в мои группы (координаторам)", "requests to join my groups (coordinators)"),
    "mention": ("упоминания", "mentions"),
    "personal_message": ("личные сообщения", "personal messages"),
    "task_assigned": ("назначенные задачи", "tasks assigned"),
    "task_overdue": ("просроченные задачи", "overdue tasks"),
    "waitlist_promoted": ("место из листа ожидания", "a place from the waitlist"),
    "event_changed": ("изменения событий", "events changed"),
    "event_cancelled": ("отмены событий", "events cancelled"),
    "event_reminder": ("напоминания о событиях", "event reminders"),
    "round_waiting": ("раунды, ждущие обратной связи", "rounds waiting for feedback"),
    "help_request_routed": ("запросы о помощи мне", "help requests routed to me"),
    "help_request_answered": ("ответы на мои запросы", "answers to my requests"),
    "pick_window_opened": ("открытие выбора ролей", "role picking opened"),
}

WORDS: dict[str, tuple[str, str]] = {
    "open": ("Открыть", "Open"),
    "digest_subject": ("Сводка уведомлений за {day}", "Your notifications of {day}"),
    "digest_intro": ("Что произошло за день:", "What happened that day:"),
    "why": ("Вы получили это письмо как участник сообщества HR-мнение.",
            "You receive this as a member of the HR-mnenie community."),
    "unsubscribe": ("Больше не присылать письма о том, что это: {kind}", "Stop e-mails of this kind: {kind}"),
    "preferences": ("Настроить уведомления", "Notification settings"),
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _fill(template: str, params: dict[str, str]) -> str:
    return Formatter().vformat(template, (), _Blank(params))


def word(key: str, lang: str, **params: str) -> str:
    ru, en = WORDS[key]
    return _fill(en if lang == "en" else ru, params)


def title(kind: str, params: dict[str, str], lang: str) -> str:
    ru, en = TITLES[kind]
    return _fill(en if lang == "en" else ru, params)


def link(kind: str, params: dict[str, str]) -> str:
    path = _fill(LINKS[kind], params)
    return path if "//" not in path else LINKS[kind].split("{", 1)[0]  # a missing id: the section's page


def kind_name(kind: str, lang: str) -> str:
    ru, en = KIND_NAMES[kind]
    return en if lang == "en" else ru


@dataclass(frozen=True)
class Letter:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Line:
    kind: str
    params: dict[str, str]


def letter(lines: list[Line], lang: str, web_url: str, unsubscribe_url: str | None, unsubscribe_kind: str | None,
           subject: str | None = None) -> Letter:
    """One e-mail of one notification (``subject`` None: its title) or of a day's (a digest's subject)."""
    base = web_url.rstrip("/")
    rows = [(title(line.kind, line.params, lang), base + link(line.kind, line.params)) for line in lines]
    subject = subject or rows[0][0]
    text_parts = [] if len(rows) == 1 else [word("digest_intro", lang), ""]
    text_parts += [f"{'- ' if len(rows) > 1 else ''}{t}\n  {word('open', lang)}: {u}" for t, u in rows]
    footer = ["", "--", word("why", lang), f"{word('preferences', lang)}: {base}/notifications/preferences"]
    html_rows = "".join(f'<li><a href="{escape(u)}">{escape(t)}</a></li>' for t, u in rows)
    html_footer = (f'<p style="color:#666;font-size:small">{escape(word("why", lang))} '
                   f'<a href="{escape(base)}/notifications/preferences">{escape(word("preferences", lang))}</a>')
    if unsubscribe_url and unsubscribe_kind:
        stop = word("unsubscribe", lang, kind=kind_name(unsubscribe_kind, lang))
        footer.append(f"{stop}: {unsubscribe_url}")
        html_footer += f' · <a href="{escape(unsubscribe_url)}">{escape(stop)}</a>'
    html_footer += "</p>"
    intro = "" if len(rows) == 1 else f"<p>{escape(word('digest_intro', lang))}</p>"
    html = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(subject)}</title></head>'
            f"<body>{intro}<ul>{html_rows}</ul>{html_footer}</body></html>")
    return Letter(subject, "\n".join([*text_parts, *footer]) + "\n", html)
