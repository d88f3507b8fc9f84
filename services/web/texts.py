"""Every word of the web client, in Russian (the default) and English.

The gateway says its refusals in the person's language already (Accept-Language is passed on);
these are the pages' own words.
"""

from __future__ import annotations

LANGS = ("ru", "en")

TEXTS: dict[str, tuple[str, str]] = {
    # code: (ru, en)
    "site": ("HR-мнение", "HR-mnenie"),
    "skip": ("К содержанию", "Skip to content"),
    "nav_home": ("Главная", "Home"),
    "nav_profile": ("Мой профиль", "My profile"),
    "nav_rules": ("Правила", "Rules"),
    "nav_colleagues": ("Коллеги", "Colleagues"),
    "nav_moderation": ("Модерация", "Moderation"),
    "nav_invitations": ("Приглашения", "Invitations"),
    "nav_members": ("Участники и роли", "Members and roles"),
    "nav_login": ("Войти", "Sign in"),
    "nav_logout": ("Выйти", "Sign out"),
    "lang_switch": ("English", "Русский"),
    "lang_switch_label": ("Switch to English", "Переключить на русский"),
    # sign in
    "login_title": ("Вход", "Sign in"),
    "email": ("E-mail", "E-mail"),
    "password": ("Пароль", "Password"),
    "password_hint": ("Не короче 8 символов.", "At least 8 characters."),
    "login_submit": ("Войти", "Sign in"),
    "login_no_account": ("Аккаунт создаётся по ссылке-приглашению от модератора сообщества.",
                         "An account is created through an invitation link from a community moderator."),
    "session_expired": ("Сеанс истёк. Войдите снова — вы вернётесь на ту же страницу.",
                        "Your session has expired. Sign in again and you will be brought back to the same page."),
    "signed_out": ("Вы вышли из системы.", "You have signed out."),
    "login_required_page": ("Войдите, чтобы открыть эту страницу.", "Sign in to open this page."),
    # join
    "join_title": ("Регистрация в сообществе", "Join the community"),
    "join_lead": ("Вы пришли по приглашению в группу «Знакомство». После регистрации вы познакомитесь с правилами "
                  "и заполните профиль, а модератор откроет вам доступ в «Главную группу».",
                  "You were invited to the Introduction group. After registering you read the rules and fill in "
                  "your profile, and a moderator opens the Main group to you."),
    "full_name": ("Имя и фамилия", "Full name"),
    "consent_title": ("Согласие на обработку персональных данных", "Consent to the processing of personal data"),
    "consent_text": (
        "Я даю согласие Профессиональному партнёрству работодателей (г. Екатеринбург) на обработку моих "
        "персональных данных — имени, e-mail, телефона, сведений о работе и профессиональных интересах — в целях "
        "участия в HR-сообществе в соответствии с Федеральным законом № 152-ФЗ «О персональных данных». "
        "Данные видны модераторам и, в выбранном мной объёме, участникам сообщества. Я могу отозвать согласие, "
        "после чего мои данные станут нечитаемыми везде на платформе.",
        "I consent to the Employers' Professional Partnership (Yekaterinburg) processing my personal data — name, "
        "e-mail, phone, work details and professional interests — for taking part in the HR community, under "
        "Russian Federal Law No. 152-FZ on personal data. Moderators see the data, and community members see the "
        "part I choose. I may withdraw my consent; my data then becomes unreadable everywhere on the platform."),
    "consent_checkbox": ("Я прочитал(а) текст и даю согласие", "I have read the text and give my consent"),
    "consent_missing": ("Без согласия регистрация невозможна: отметьте его.",
                        "Registration is not possible without consent: tick the box."),
    "join_submit": ("Зарегистрироваться", "Register"),
    "invitation_dead_title": ("Приглашение не действует", "The invitation no longer works"),
    "dead_invitation_unknown": ("Такой ссылки-приглашения нет: проверьте, что она скопирована целиком.",
                                "There is no such invitation link: check that it was copied whole."),
    "dead_invitation_revoked": ("Приглашение отозвано модератором.", "The invitation was revoked by a moderator."),
    "dead_invitation_expired": ("Срок действия приглашения истёк.", "The invitation has expired."),
    "dead_invitation_exhausted": ("Приглашение уже использовано максимальное число раз.",
                                  "The invitation has been used the maximum number of times."),
    "invitation_valid_until": ("Приглашение действует до {when}.", "The invitation is valid until {when}."),
    "invitation_dead_hint": ("Попросите модератора сообщества прислать новую ссылку. Если у вас уже есть аккаунт, "
                             "просто войдите.",
                             "Ask a community moderator for a new link. If you already have an account, just sign in."),
    "registered": ("Добро пожаловать! Прочитайте правила сообщества.",
                   "Welcome! Please read the community's rules."),
    # rules
    "rules_title": ("Правила сообщества", "The community's rules"),
    "rules_lead": ("Наша главная ценность не в том, ЧТО вы делаете, а КАК.",
                   "Our core value is not what you do but how you do it."),
    "rule_1": ("Относитесь к участникам сообщества как к коллегам одной компании: уважительно и открыто.",
               "Treat the community's members as colleagues in one company: with respect and openly."),
    "rule_2": ("Формулируйте запрос на экспертную помощь так, чтобы он был мотивированным, информативным, "
               "осознанным и диалоговым.",
               "Make every request for expert help motivated, informative, conscious and open to dialogue."),
    "rule_3": ("Давайте обратную связь в развивающем формате: о действиях, а не о личности, с конкретными "
               "примерами и предложениями.",
               "Give feedback in the developmental format: about actions, not the person, with concrete examples "
               "and suggestions."),
    "rule_4": ("Не передавайте за пределы сообщества контакты и данные участников без их согласия.",
               "Do not pass members' contacts or data outside the community without their consent."),
    "rule_5": ("Решения об организации работы в рабочей группе принимают её участники.",
               "How a working group works is decided by its members."),
    "rules_ack": ("Я ознакомился(ась) с правилами", "I have read the rules"),
    "rules_done": ("Вы ознакомились с правилами.", "You have acknowledged the rules."),
    "rules_next": ("Теперь заполните профиль.", "Now fill in your profile."),
    # profile
    "profile_title": ("Мой профиль", "My profile"),
    "city": ("Город", "City"),
    "company": ("Компания", "Company"),
    "position": ("Должность", "Position"),
    "years_in_hr": ("Лет в HR", "Years in HR"),
    "professional_interests": ("Профессиональные интересы", "Professional interests"),
    "interests_hint": ("Через запятую, например: подбор, оценка персонала", "Comma-separated, e.g. hiring, assessment"),
    "phone": ("Телефон", "Phone"),
    "about": ("О себе", "About me"),
    "save": ("Сохранить", "Save"),
    "saved": ("Профиль сохранён.", "Profile saved."),
    "missing_title": ("Ещё не заполнено", "Still missing"),
    "missing_none": ("Всё обязательное заполнено.", "Everything required is filled in."),
    "required_mark": ("обязательно", "required"),
    "visibility_title": ("Что видят коллеги", "What colleagues see"),
    "visibility_lead": ("Имя видно всегда. Отметьте поля, которые увидят другие участники «Главной группы» в разделе "
                        "«Коллеги». Модераторы видят весь профиль.",
                        "Your name is always shown. Tick the fields other Main-group members will see in "
                        "Colleagues. Moderators see the whole profile."),
    "show_field": ("Показывать: {field}", "Show: {field}"),
    "visibility_save": ("Сохранить видимость", "Save visibility"),
    "visibility_saved": ("Видимость полей сохранена.", "Field visibility saved."),
    "status_title": ("Мой статус", "My status"),
    "status_introduction": ("Группа «Знакомство»: заполните профиль.", "Introduction group: fill in your profile."),
    "status_pending_review": ("Профиль на проверке у модератора. Мы сообщим о решении здесь.",
                              "Your profile is being reviewed by a moderator. The decision will appear here."),
    "status_changes_requested": ("Модератор просит внести изменения.", "A moderator asks for changes."),
    "status_member": ("Вы участник «Главной группы».", "You are a member of the Main group."),
    "status_declined": ("В доступе отказано.", "Access was declined."),
    "status_revoked": ("Участие в «Главной группе» прекращено.", "Your Main-group membership was ended."),
    "moderator_said": ("Сообщение модератора", "The moderator's message"),
    "next_rules": ("Прочитайте правила сообщества", "Read the community's rules"),
    "next_profile": ("Заполните профиль", "Fill in your profile"),
    "next_colleagues": ("Найдите коллег", "Find colleagues"),
    "home_title": ("Здравствуйте", "Hello"),
    "roles": ("Роли", "Roles"),
    "groups": ("Группы", "Groups"),
    # moderation
    "queue_title": ("Очередь модерации", "Moderation queue"),
    "queue_empty": ("Никто не ждёт решения.", "No one is waiting for a decision."),
    "queue_total": ("Ждут решения: {n}", "Waiting for a decision: {n}"),
    "waiting_since": ("ждёт с", "waiting since"),
    "open": ("Открыть", "Open"),
    "newcomer_title": ("Новичок", "Newcomer"),
    "profile_section": ("Профиль", "Profile"),
    "history_title": ("История решений", "Decision history"),
    "history_empty": ("Решений ещё не было.", "No decisions yet."),
    "decision_title": ("Решение", "Decision"),
    "decision_grant": ("Открыть доступ в «Главную группу»", "Grant access to the Main group"),
    "decision_request_changes": ("Попросить изменения", "Request changes"),
    "decision_decline": ("Отказать", "Decline"),
    "decision_revoke": ("Прекратить участие", "Revoke membership"),
    "decided_grant": ("доступ открыт", "access granted"),
    "decided_request_changes": ("запрошены изменения", "changes requested"),
    "decided_decline": ("отказано", "declined"),
    "decided_revoke": ("участие прекращено", "membership revoked"),
    "decision_message": ("Сообщение участнику (что изменить или причина отказа)",
                         "Message to the member (what to change, or the reason)"),
    "decide_submit": ("Принять решение", "Decide"),
    "decision_done": ("Решение принято: {what}.", "Decision taken: {what}."),
    "by": ("кто", "by"),
    "when": ("когда", "when"),
    "deleted_member": ("удалённый участник", "a deleted member"),
    "registered_at": ("Зарегистрирован(а)", "Registered"),
    "not_filled": ("не заполнено", "not filled in"),
    "rules_acknowledged": ("С правилами ознакомлен(а)", "Has read the rules"),
    "yes": ("да", "yes"),
    "no": ("нет", "no"),
    # invitations
    "invitations_title": ("Приглашения", "Invitations"),
    "invitation_create": ("Новое приглашение", "New invitation"),
    "max_uses": ("Сколько раз можно использовать", "How many times it can be used"),
    "max_uses_hint": ("1 — для одного человека; больше — для группы.", "1 for one person; more for a group."),
    "expires_in_days": ("Действует дней", "Valid for days"),
    "create": ("Создать", "Create"),
    "invitation_created": ("Приглашение создано. Скопируйте ссылку — она показывается один раз целиком.",
                           "Invitation created. Copy the link: it is shown in full this once."),
    "copy": ("Копировать", "Copy"),
    "copied": ("Скопировано", "Copied"),
    "uses_left": ("Осталось использований", "Uses left"),
    "expires": ("Действует до", "Expires"),
    "state": ("Состояние", "State"),
    "state_active": ("действует", "active"),
    "state_inactive": ("не действует", "inactive"),
    "state_revoked": ("отозвано", "revoked"),
    "revoke": ("Отозвать", "Revoke"),
    "revoked_done": ("Приглашение отозвано.", "Invitation revoked."),
    "show_inactive": ("Показать недействующие", "Show inactive"),
    "invitations_empty": ("Действующих приглашений нет.", "No active invitations."),
    "link": ("Ссылка", "Link"),
    "issued": ("Создано", "Issued"),
    # colleagues
    "colleagues_title": ("Коллеги", "Colleagues"),
    "colleagues_lead": ("Справочник участников «Главной группы». Каждый сам решает, какие поля профиля видны.",
                        "The directory of Main-group members. Each member decides which profile fields are shown."),
    "search": ("Поиск", "Search"),
    "search_label": ("Имя, город, компания или интерес", "Name, city, company or interest"),
    "search_submit": ("Найти", "Search"),
    "nothing_found": ("Никого не нашлось.", "No one found."),
    "more": ("Дальше", "More"),
    "back": ("Назад", "Back"),
    "colleague_title": ("Карточка коллеги", "Colleague"),
    # admin
    "members_title": ("Участники и роли", "Members and roles"),
    "status": ("Статус", "Status"),
    "all_statuses": ("Все", "All"),
    "roles_save": ("Сохранить роли", "Save roles"),
    "roles_saved": ("Роли сохранены.", "Roles saved."),
    "role_moderator": ("модератор", "moderator"),
    "role_observer": ("эксперт-наблюдатель", "expert observer"),
    "role_coordinator": ("координатор", "coordinator"),
    "role_admin": ("администратор", "administrator"),
    "role_member": ("участник", "member"),
    "role_guest": ("гость", "guest"),
    "st_introduction": ("знакомство", "introduction"),
    "st_pending_review": ("на проверке", "under review"),
    "st_changes_requested": ("нужны изменения", "changes requested"),
    "st_member": ("участник", "member"),
    "st_declined": ("отказано", "declined"),
    "st_revoked": ("участие прекращено", "revoked"),
    "st_erased": ("удалён(а)", "erased"),
    "status_erased": ("Данные удалены.", "The data was erased."),
    "filter": ("Показать", "Show"),
    # statuses of pages
    "forbidden_title": ("Нет доступа", "Access denied"),
    "forbidden_text": ("Эта страница доступна не всем. Если вы считаете, что это ошибка, напишите модератору.",
                       "This page is not open to everyone. If you think this is a mistake, write to a moderator."),
    "not_found_title": ("Страница не найдена", "Page not found"),
    "not_found_text": ("Такой страницы нет или она больше недоступна.", "This page does not exist or is gone."),
    "bad_request_title": ("Запрос не принят", "Request refused"),
    "csrf_refused": ("Форма устарела или отправлена не с этой страницы. Откройте страницу заново и повторите.",
                     "The form is stale or was not sent from this site. Open the page again and retry."),
    "too_large": ("Форма слишком большая (больше {limit} байт).", "The form is too large (over {limit} bytes)."),
    "unavailable_title": ("Сервис временно недоступен", "The service is temporarily unavailable"),
    "unavailable_text": ("Платформа сейчас не отвечает. Обновите страницу через минуту.",
                         "The platform is not answering right now. Reload the page in a minute."),
    "outcome_unknown_text": ("Мы не знаем, выполнено ли действие: платформа не ответила вовремя. Проверьте результат "
                             "на странице, прежде чем повторять.",
                             "We do not know whether the action was done: the platform did not answer in time. "
                             "Check the page before you retry."),
    "to_home": ("На главную", "Home page"),
    "field_error": ("Ошибка в поле", "Error in field"),
    "fix_errors": ("Исправьте отмеченные поля.", "Correct the marked fields."),
    "times_in": ("время — {zone}", "times in {zone}"),
}

FIELD_LABELS = ("full_name", "city", "company", "position", "years_in_hr", "professional_interests", "phone", "about")


def text(code: str, lang: str, **params) -> str:
    pair = TEXTS.get(code)
    if pair is None:
        return code
    words = pair[1] if lang == "en" else pair[0]
    return words.format(**params) if params else words
