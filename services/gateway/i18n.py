"""User-facing messages: Russian by default, English on request.

Services answer with a typed error code; the gateway is the one place that
turns a code into words for people.
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # code: (ru, en)
    "invalid_fields": ("Проверьте заполнение полей.", "Some fields are invalid."),
    "malformed_request": ("Запрос не удалось разобрать.", "The request could not be parsed."),
    "login_required": ("Войдите в систему, чтобы продолжить.", "Sign in to continue."),
    "invalid_token": (
        "Токен недействителен или истёк. Войдите заново.",
        "The token is invalid or expired. Sign in again.",
    ),
    "refresh_token_used": (
        "Этот токен обновления уже использован. Войдите заново.",
        "This refresh token has already been used. Sign in again.",
    ),
    "bad_credentials": ("Неверный e-mail или пароль.", "Wrong e-mail or password."),
    "too_many_attempts": (
        "Слишком много неудачных попыток входа. Повторите попытку позже.",
        "Too many failed sign-in attempts. Try again later.",
    ),
    "moderator_only": ("Это действие доступно только модераторам.", "Only moderators may do this."),
    "admin_only": ("Это действие доступно только администраторам.", "Only administrators may do this."),
    "not_your_profile": ("Можно смотреть только свой профиль.", "You may only view your own profile."),
    "main_group_only": (
        "Рабочие группы открыты участникам Главной группы.",
        "Working groups are open to members of the Main group.",
    ),
    "unknown_group_type": ("Такого типа рабочей группы нет.", "There is no such type of working group."),
    "group_exists": ("Такая группа уже есть.", "This group already exists."),
    "group_decided": ("По этой группе решение уже принято.", "This group has already been decided on."),
    "group_not_active": ("Группа ещё не одобрена или закрыта.", "The group is not approved or is closed."),
    "message_not_found": ("Сообщение не найдено или удалено.", "The message does not exist or was deleted."),
    "thread_not_found": (
        "Такой ветки нет: ответить можно на сообщение группы, которое не удалено.",
        "There is no such thread: reply to a message of the group that is not deleted.",
    ),
    "not_your_message": (
        "Можно менять только свои сообщения; удалять чужие могут координаторы группы и модераторы.",
        "You may only change your own messages; the group's coordinators and moderators delete others'.",
    ),
    "too_many_mentions": (
        "Слишком много упоминаний в одном сообщении: упомяните всю группу через @all.",
        "Too many mentions in one message: mention the whole group with @all.",
    ),
    "cannot_message_yourself": ("Нельзя написать самому себе.", "You cannot write to yourself."),
    "recipient_not_in_main_group": (
        "Этот человек ещё не в Главной группе: писать ему могут только модераторы.",
        "This person is not in the Main group yet: only moderators may write to them.",
    ),
    "blocked_by_member": (
        "Этот участник ограничил личные сообщения от вас.",
        "This member does not accept your personal messages.",
    ),
    "member_blocked_by_you": (
        "Вы заблокировали этого участника: разблокируйте его, чтобы написать.",
        "You have blocked this member: unblock them to write.",
    ),
    "cannot_block_yourself": ("Нельзя заблокировать самого себя.", "You cannot block yourself."),
    "one_cursor_only": (
        "Укажите только одно: before или after.",
        "Give only one of before and after.",
    ),
    "invalid_last_event_id": (
        "Last-Event-ID должен быть номером позиции потока.",
        "Last-Event-ID must be a position of the stream.",
    ),
    "group_archived": (
        "Группа в архиве: её можно только читать.",
        "The group is archived: it can only be read.",
    ),
    "coordinator_only": (
        "Это действие доступно координаторам группы и модераторам.",
        "Only the group's coordinators and moderators may do this.",
    ),
    "invitation_only": (
        "В эту группу вступают только по приглашению.",
        "This group is joined by invitation only.",
    ),
    "join_request_decided": (
        "По этой заявке уже принято решение.",
        "This join request has already been decided.",
    ),
    "not_in_main_group": ("Этот человек не состоит в Главной группе.", "This person is not in the Main group."),
    "group_invitation_not_found": ("Приглашения в эту группу нет.", "There is no invitation to this group."),
    "members_only": (
        "Раздел «Коллеги» открыт участникам Главной группы.",
        "The Colleagues directory is open to members of the Main group.",
    ),
    "colleague_not_found": (
        "Такого коллеги нет в Главной группе.",
        "There is no such colleague in the Main group.",
    ),
    "invalid_cursor": (
        "Ссылка на следующую страницу устарела или повреждена. Начните список сначала.",
        "The link to the next page is out of date or damaged. Start the list again.",
    ),
    "not_a_group_member": (
        "Список участников виден только участникам группы.",
        "Only members of the group may see its member list.",
    ),
    "group_not_found": ("Группа не найдена.", "Group not found."),
    "group_members_only": (
        "Это доступно только участникам группы.",
        "Only members of the group may do this.",
    ),
    "group_content_members_only": (
        "Содержимое этой группы видят только её участники.",
        "Only members of this group may see its content.",
    ),
    "call_in_past": ("Время созвона уже прошло: выберите время в будущем.",
                     "The call's time has passed: choose a time ahead."),
    "call_too_far": ("Созвон можно назначить не дальше чем на год вперёд.",
                     "A call can be scheduled at most a year ahead."),
    "too_many_calls": ("У группы уже слишком много назначенных созвонов.",
                       "The group has too many calls scheduled already."),
    "call_not_found": ("Такого созвона нет.", "There is no such call."),
    "announcement_not_found": ("Такого объявления нет.", "There is no such announcement."),
    "member_not_found": ("Участник не найден.", "Member not found."),
    "invitation_not_found": ("Приглашение не найдено.", "Invitation not found."),
    "invitation_unknown": ("Ссылка-приглашение недействительна.", "The invitation link is not valid."),
    "invitation_expired": (
        "Срок действия приглашения истёк. Попросите модератора о новом.",
        "The invitation has expired. Ask a moderator for a new one.",
    ),
    "invitation_revoked": ("Приглашение отозвано модератором.", "The invitation was revoked by a moderator."),
    "invitation_exhausted": (
        "Приглашение уже использовано максимальное число раз.",
        "The invitation has been used the maximum number of times.",
    ),
    "invitation_exists": ("Такое приглашение уже существует.", "This invitation already exists."),
    "consent_required": (
        "Для регистрации нужно согласие на обработку персональных данных (152-ФЗ).",
        "Registration needs your consent to the processing of personal data.",
    ),
    "email_taken": ("Этот e-mail уже зарегистрирован.", "This e-mail is already registered."),
    "member_exists": ("Участник уже зарегистрирован.", "The member is already registered."),
    "already_decided": ("Решение по этому участнику уже принято.", "A decision on this member has already been made."),
    "awaiting_changes": (
        "Участник ещё не внёс запрошенные изменения.",
        "The member has not yet made the requested changes.",
    ),
    "rules_not_acknowledged": (
        "Участник ещё не ознакомился с правилами.",
        "The member has not yet acknowledged the rules.",
    ),
    "profile_incomplete": ("Профиль участника заполнен не полностью.", "The member's profile is not complete."),
    "message_required": ("Напишите участнику, что нужно изменить.", "Tell the member what to change."),
    "reason_required": ("Укажите причину.", "Give the reason."),
    "member_declined": (
        "В доступе отказано; профиль больше нельзя менять.",
        "Access was declined; the profile can no longer be changed.",
    ),
    "cannot_drop_own_admin": ("Нельзя снять с себя роль администратора.", "You cannot drop your own admin role."),
    "cannot_erase_self": ("Нельзя удалить самого себя.", "You cannot erase yourself."),
    "data_export_assembling": (
        "Ваши данные уже собираются по прошлому запросу: дождитесь, пока выгрузка будет готова.",
        "Your data is already being gathered for your last request: wait until the download is ready.",
    ),
    "data_export_not_ready": (
        "Выгрузка ещё не готова: не все сервисы прислали свою часть данных.",
        "The download is not ready yet: not every service has sent its part of your data.",
    ),
    "data_part_not_found": (
        "Этой части выгрузки нет: запросите данные заново.",
        "This part of the download does not exist: ask for your data again.",
    ),
    "withdrawal_not_confirmed": (
        "Отзыв согласия не подтверждён: впишите слово УДАЛИТЬ, чтобы удалить учётную запись.",
        "The withdrawal is not confirmed: type the word DELETE to erase your account.",
    ),
    "admin_cannot_withdraw": (
        "Администратор не может отозвать согласие, пока у него есть эта роль: сначала передайте её другому.",
        "An administrator cannot withdraw consent while holding the role: hand it over to someone else first.",
    ),
    "concurrent_update": (
        "Данные изменились одновременно с вашим запросом. Повторите попытку.",
        "The data changed at the same time as your request. Try again.",
    ),
    "service_unavailable": (
        "Сервис временно недоступен. Повторите попытку позже.",
        "The service is temporarily unavailable. Try again later.",
    ),
    "internal_error": ("Внутренняя ошибка сервиса. Мы уже разбираемся.", "Internal service error."),
    "not_found": ("Ресурс не найден.", "Not found."),
    "docs_assets_missing": (
        "Документация API недоступна: не установлены файлы Swagger UI и ReDoc (выполните make install).",
        "The API documentation is unavailable: the Swagger UI and ReDoc files are not installed "
        "(run make install).",
    ),
    "method_not_allowed": ("Метод не поддерживается.", "Method not allowed."),
    "unknown_decision": ("Неизвестное решение.", "Unknown decision."),
    "own_membership": (
        "Решение о своём участии в сообществе принимает другой модератор.",
        "A decision on your own membership is for another moderator.",
    ),
    "not_a_member": ("Участник не состоит в Главной группе.", "The person is not a member of the Main group."),
    "membership_is_a_decision": (
        "Роли «гость» и «участник» не назначаются: их определяет решение модератора.",
        "The guest and member roles are not assigned: a moderator's decision sets them.",
    ),
    "payload_too_large": ("Слишком большой запрос.", "The request is too large."),
    "overloaded": (
        "Сервер сейчас перегружен, запрос не выполнен. Повторите через несколько секунд.",
        "The server is overloaded right now and did not carry out the request. Try again in a few seconds.",
    ),
    "event_too_large": ("Слишком большой объём данных для одного изменения.", "Too much data for one change."),
    "idempotency_key_reused": (
        "Этот ключ Idempotency-Key уже использован для другого запроса.",
        "This Idempotency-Key was already used for another request.",
    ),
    "request_in_progress": (
        "Такой же запрос ещё выполняется. Повторите через секунду с тем же ключом.",
        "The same request is still being carried out. Repeat in a second with the same key.",
    ),
    "outcome_unknown": (
        "Не удалось подтвердить, выполнен ли запрос. Повторите его с тем же заголовком "
        "Idempotency-Key — он не будет выполнен дважды — или проверьте результат.",
        "We could not confirm whether the request was carried out. Repeat it with the same "
        "Idempotency-Key header (it is never carried out twice), or check the result.",
    ),
    "deadline_exceeded": (
        "Сервис не успел обработать запрос; он не выполнен. Повторите попытку.",
        "The service could not handle the request in time; it was not carried out. Try again.",
    ),
    # tasks (libs/contracts/tasks.py)
    "task_not_found": ("Задача не найдена.", "Task not found."),
    "assignee_not_a_member": (
        "Назначить задачу можно только участнику группы.",
        "A task can only be assigned to a member of the group.",
    ),
    "task_moved_meanwhile": (
        "Пока вы смотрели, задачу уже перенесли в другую колонку. Обновите доску.",
        "The task was moved to another column meanwhile. Reload the board.",
    ),
    "checklist_item_not_found": ("Такого пункта в чек-листе нет.", "No such checklist item."),
    "checklist_full": ("В чек-листе уже слишком много пунктов.", "The checklist already has too many items."),
    "not_your_task": (
        "Удалить задачу могут её автор, координаторы группы и модераторы.",
        "Only the task's creator, the group's coordinators and moderators may delete it.",
    ),
    # the drive
    "file_too_large": ("Файл слишком большой.", "The file is too large."),
    "drive_quota_exceeded": ("В хранилище группы не хватает места.", "Not enough room left in the group's drive."),
    "file_not_found": ("Такого файла нет.", "No such file."),
    "file_in_bin": ("Файл в корзине: сначала восстановите его.", "The file is in the bin: restore it first."),
    "file_not_in_bin": ("Удалить навсегда можно только файл из корзины.",
                        "Only a file in the bin can be erased for good."),
    "version_not_found": ("Такой версии файла нет.", "No such version of the file."),
    "file_erased": ("Этот файл удалён вместе с данными загрузившего его участника.",
                    "This file was erased with the data of the member who uploaded it."),
    "file_name_required": ("Укажите имя файла.", "Give the file a name."),
    "upload_incomplete": ("Файл пришёл не целиком или повреждён. Загрузите его ещё раз.",
                          "The file did not arrive whole or was damaged. Upload it again."),
    "upload_interrupted": ("Загрузка прервалась: файл не сохранён.",
                           "The upload was cut off: the file was not stored."),
    "upload_failed": ("Не удалось сохранить файл. Попробуйте ещё раз чуть позже.",
                      "The file could not be stored. Try again a little later."),
    "file_unavailable": ("Файл сейчас недоступен. Попробуйте позже.", "The file is unavailable now. Try later."),
    "bad_content_length": ("Неверная длина запроса (Content-Length).", "Invalid request length (Content-Length)."),
    # the calendar (seasons, requests, the grid, registrations, feeds)
    "calendar_members_only": (
        "Календарь сообщества доступен участникам Главной группы.",
        "The community's calendar is for members of the Main group."),
    "season_not_found": ("Такого сезона нет.", "There is no such season."),
    "season_exists": ("Сезон с таким обозначением уже есть.", "A season with this id already exists."),
    "season_dates_required": (
        "Укажите даты сезона: по умолчанию они известны только для сезонов вида 2027-spring и 2027-autumn.",
        "Give the season's dates: defaults exist only for seasons named like 2027-spring and 2027-autumn."),
    "season_ends_before_start": ("Сезон не может закончиться раньше, чем начнётся.",
                                 "A season cannot end before it starts."),
    "season_not_planning": (
        "Сезон уже не в планировании: заявки и черновик сетки закрыты.",
        "The season is no longer being planned: requests and the draft grid are closed."),
    "season_not_open": (
        "Сезон сейчас не открыт: записаться или отменить запись нельзя.",
        "The season is not open now: registering or cancelling is not possible."),
    "season_not_closed": ("Итоги публикуются после закрытия сезона.",
                          "Results are published once the season is closed."),
    "season_grid_empty": ("В сетке сезона нет ни одного мероприятия: публиковать нечего.",
                          "The season's grid has no events: there is nothing to publish."),
    "request_not_found": ("Такой заявки нет.", "There is no such request."),
    "request_already_decided": ("По этой заявке уже принято решение.", "This request has already been decided."),
    "request_closed": ("Заявка отклонена или объединена с другой: поддержать её нельзя.",
                       "The request was declined or merged into another: it cannot be supported."),
    "own_request_support": ("Свою заявку поддержать нельзя.", "You cannot support your own request."),
    "merge_target_not_accepted": ("Объединять можно только с принятой заявкой.",
                                  "A request can only be merged into an accepted one."),
    "request_merged_into_itself": ("Заявку нельзя объединить с ней самой.", "A request cannot be merged into itself."),
    "decline_reason_required": ("Укажите причину отказа.", "Give the reason for declining."),
    "request_not_accepted": ("Мероприятие может отвечать только на принятые заявки.",
                             "An event can only answer accepted requests."),
    "event_not_found": ("Такого мероприятия нет.", "There is no such event."),
    "event_cancelled": ("Мероприятие отменено.", "The event is cancelled."),
    "event_removed": ("Мероприятие убрано из сетки.", "The event was removed from the grid."),
    "event_capacity_too_small": ("У мероприятия должно быть хотя бы одно место.",
                                 "An event needs at least one place."),
    "event_ends_before_start": ("Мероприятие должно закончиться позже, чем начнётся.",
                                "An event must end after it starts."),
    "event_outside_season": ("Мероприятие выходит за даты сезона.", "The event falls outside the season's dates."),
    "game_needs_place": ("Для очной игры укажите место проведения.", "An in-person game needs a place."),
    "online_meeting_needs_call_link": ("Для онлайн-встречи укажите ссылку на звонок.",
                                       "An online meeting needs a call link."),
    "host_double_booked": ("У ведущего в это время уже есть другое мероприятие.",
                           "The host already has another event at this time."),
    "group_double_booked": ("У рабочей группы в это время уже есть другое мероприятие.",
                            "The working group already has another event at this time."),
    "own_registration_only": ("Отменить можно только свою запись.", "You may only cancel your own registration."),
    "feed_not_found": ("Такой ссылки на календарь нет: возможно, её обновили.",
                       "There is no such calendar link: it may have been renewed."),
    "host_or_moderator_only": ("Отметить присутствие может ведущий мероприятия или модератор.",
                               "Only the event's host or a moderator may record who came."),
    "event_not_begun": ("Мероприятие ещё не началось.", "The event has not begun yet."),
    "attendee_not_registered": ("Отмечать можно только записавшихся на мероприятие.",
                                "Only members registered for the event can be marked present."),
    "season_results_not_published": ("Итоги сезона ещё не опубликованы.",
                                     "The season's results are not published yet."),
    # the calendar's games and research
    "event_not_a_game": ("Это мероприятие — не игра.", "This event is not a game."),
    "group_not_a_game_team": ("Группа не является игровой командой.", "The group is not a game team."),
    "team_coordinator_only": ("Это может сделать только координатор команды.",
                              "Only the team's coordinator may do this."),
    "team_roster_size": ("В составе команды должно быть от 1 до 30 участников.", "A roster names 1 to 30 members."),
    "team_roster_repeats_member": ("Участник указан в составе дважды.", "A member is listed twice in the roster."),
    "applicant_not_in_roster": ("Подающий заявку должен быть в составе команды.",
                                "The applicant must be on the roster."),
    "roster_not_in_group": ("В составе есть человек не из этой группы.", "The roster names someone outside the group."),
    "team_already_applied": ("Команда уже подала заявку с другим составом.",
                             "The team has already applied with another roster."),
    "team_declined": ("Заявка команды отклонена: подать её снова нельзя.",
                      "The team's application was declined: it cannot apply again."),
    "member_in_another_team": ("Участник уже играет в другой команде этой игры.",
                               "A member already plays in another team of this game."),
    "team_not_found": ("Эта команда не подавала заявку на игру.", "This team has not applied for the game."),
    "team_not_pending": ("По заявке команды уже принято решение.", "The team's application has already been decided."),
    "team_place_not_offered": ("Команде сейчас не предложено место.", "No place is offered to this team now."),
    "offer_hours_too_small": ("Предложение места должно действовать хотя бы час.",
                              "An offer must last at least an hour."),
    "season_closed": ("Сезон закрыт.", "The season is closed."),
    "research_distributed": ("Исследования уже распределены: сначала откройте распределение заново.",
                             "The research is distributed: reopen the distribution first."),
    "research_no_tasks": ("Нет задач для распределения.", "There are no tasks to distribute."),
    "research_task_not_found": ("Такой задачи нет.", "There is no such task."),
    "research_effort_out_of_range": ("Трудоёмкость задачи — от 1 до 500 часов.", "A task's effort is 1 to 500 hours."),
    "research_hours_out_of_range": ("Можно предложить от 1 до 500 часов.", "Offer 1 to 500 hours."),
    "research_too_many_tasks": ("В сезоне слишком много исследовательских задач.",
                                "The season has too many research tasks."),
    "own_offer_only": ("Отозвать можно только своё предложение.", "You may only withdraw your own offer."),
    # the 12 roles (vacancies, picks, development maps)
    "community_members_only": ("Это доступно участникам Главной группы сообщества.",
                               "This is for members of the community's Main group."),
    "pick_window_closed": ("Окно выбора ролей сейчас закрыто.", "The window for picking roles is closed now."),
    "not_in_group": ("Роль этой группы может взять только её участник.",
                     "Only a member of this group may take its roles."),
    "picks_max_reached": ("Вы уже выбрали максимум ролей на этот сезон.",
                          "You have already picked the most roles allowed this season."),
    "vacancy_filled": ("Эта вакансия уже занята.", "This vacancy is already filled."),
    "vision_not_yet": ("Роли «Видения» открываются после ролей всех трёх других качеств в прошлых сезонах.",
                       "Vision roles open once you have held roles of all three other qualities in earlier seasons."),
    "role_unknown": ("Такой роли нет: роли пронумерованы от 1 до 12.", "There is no such role: roles are 1 to 12."),
    "role_in_a_group": ("Роли 1–9 берутся внутри рабочей группы.", "Roles 1-9 are taken inside a working group."),
    "role_of_coordination": ("Роли 10–12 — роли координации групп, а не вакансии группы.",
                             "Roles 10-12 are coordination roles, not a group's vacancies."),
    "role_not_held": ("Эта роль за вами не закреплена.", "You do not hold this role."),
    "own_picks_only": ("Отказаться можно только от своей роли.", "You may only release your own role."),
    "capacity_below_holders": ("Мест не может быть меньше, чем людей, уже взявших роль.",
                               "Places cannot be fewer than the people who already hold the role."),
    # feedback (games, rounds, observers' feedback, requests for expert help)
    "game_not_found": ("Такой игры нет.", "There is no such game."),
    "game_cancelled": ("Игра отменена.", "The game was cancelled."),
    "not_an_observer": ("Наблюдателем можно назначить только участника с ролью эксперта-наблюдателя.",
                        "Only a member with the observer role can be assigned as an observer."),
    "round_already_open": ("Раунд уже идёт: сначала закройте его.", "A round is open: close it first."),
    "too_many_rounds": ("В игре не может быть больше раундов.", "The game cannot have more rounds."),
    "no_round_open": ("Сейчас нет открытого раунда.", "No round is open now."),
    "assigned_observers_only": ("Обратную связь пишут только назначенные на игру наблюдатели.",
                                "Only the observers assigned to the game write feedback."),
    "team_not_in_game": ("Эта команда не участвует в игре.", "This team does not play in the game."),
    "round_not_found": ("Такого раунда нет.", "There is no such round."),
    "round_closed": ("Раунд закрыт: обратная связь опубликована и больше не меняется.",
                     "The round is closed: its feedback is published and changes no more."),
    "role_not_of_quality": ("Эта роль относится к другому качеству матрицы.",
                            "This role belongs to another quality of the matrix."),
    "feedback_incomplete": ("Обратная связь не соответствует единому формату.",
                            "The feedback does not meet the unified format."),
    "feedback_not_found": ("Такой обратной связи нет.", "There is no such feedback."),
    "team_members_only": ("Это видят и отмечают только участники команды.",
                          "Only the team's members see and answer this."),
    "help_request_incomplete": ("Запрос не соответствует стандарту качества.",
                                "The request does not meet the quality standard."),
    "route_to_one": ("Укажите одно: рабочую группу или эксперта.", "Name one: a working group or an expert."),
    "help_request_not_found": ("Такого запроса нет.", "There is no such request."),
    "help_request_not_open": ("Запрос уже решён.", "The request is settled already."),
    "help_request_not_routed": ("Обсуждение откроется, когда модератор направит запрос.",
                                "The thread opens once a moderator routes the request."),
    "asker_only": ("Закрыть запрос может только его автор.", "Only the asker may close the request."),
    # notifications
    "notification_not_found": ("Такого уведомления нет.", "There is no such notification."),
    "time_zone_unknown": ("Такого часового пояса нет.", "There is no such time zone."),
    "unsubscribe_link_invalid": ("Ссылка для отписки недействительна: откройте настройки уведомлений.",
                                 "The unsubscribe link is not valid: open your notification settings."),
    "own_map_only": ("Карту развития другого участника видят только модераторы.",
                     "Only moderators see another member's development map."),
}

FIELD_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("обязательное поле", "field required"),
    "string_too_short": ("слишком короткое значение", "too short"),
    "string_too_long": ("слишком длинное значение", "too long"),
    "value_error": ("недопустимое значение", "invalid value"),
    "string_pattern_mismatch": ("неверный формат", "wrong format"),
    "literal_error": ("недопустимое значение", "value not allowed"),
    "extra_forbidden": ("лишнее поле", "unexpected field"),
    "greater_than_equal": ("слишком маленькое значение", "too small"),
    "less_than_equal": ("слишком большое значение", "too large"),
    "int_parsing": ("нужно целое число", "must be an integer"),
    "bool_parsing": ("нужно да/нет", "must be true or false"),
    "json_invalid": ("некорректный JSON", "invalid JSON"),
    "forbidden_characters": (
        "недопустимые символы (управляющие или смены направления текста)",
        "forbidden characters (control or text-direction override)",
    ),
    "too_long": ("слишком много элементов", "too many items"),
    "value_error.email": ("неверный адрес e-mail", "invalid e-mail address"),
}

STATUS_OF_KIND = {
    "validation": 422,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "unauthorized": 401,
    "rate_limited": 429,
    "unavailable": 503,
    "too_large": 413,
    "unknown": 504,
}


def language(accept_language: str | None) -> str:
    """The first language the client prefers that we speak; Russian otherwise."""
    if not accept_language:
        return "ru"
    ranked = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, i, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("en"):
            return "en"
        if tag.startswith("ru") or tag == "*":
            return "ru"
    return "ru"


#: what a problem's ``detail`` says for this occurrence, from its params (a code without one has none)
DETAILS: dict[str, tuple[str, str]] = {
    "event_outside_season": ("Сезон идёт с {starts_on} по {ends_on} ({time_zone}).",
                             "The season runs from {starts_on} to {ends_on} ({time_zone})."),
    "season_not_open": ("Сейчас сезон в фазе «{phase}».", "The season is now in phase \"{phase}\"."),
    "file_too_large": ("Можно загрузить файл не больше {limit_mb} МБ.", "A file may be at most {limit_mb} MB."),
    "pick_window_closed": ("Окно откроется, когда закроется сезон {opens_after}.",
                           "It opens when season {opens_after} closes."),
    "picks_max_reached": ("Не больше {max} на сезон: откажитесь от одной, чтобы взять другую.",
                          "At most {max} a season: release one to take another."),
    "vacancy_filled": ("Мест на роль {role}: {capacity}, все заняты.",
                       "Role {role} has {capacity} place(s), all taken."),
    "vision_not_yet": ("Ещё не хватает: {missing_ru}.", "Still missing: {missing_en}."),
    "capacity_below_holders": ("Роль уже взяли: {holders}.", "People holding the role: {holders}."),
    "feedback_incomplete": ("{part_ru}: {problem_ru}.", "{part_en}: {problem_en}."),
    "help_request_incomplete": ("{part_ru}: {problem_ru}.", "{part_en}: {problem_en}."),
    "time_zone_unknown": ("Пояс «{time_zone}» не найден; например, Asia/Yekaterinburg.",
                          "Zone \"{time_zone}\" is unknown; e.g. Asia/Yekaterinburg."),
    "drive_quota_exceeded": (
        "Сейчас файл может быть не больше {free_mb} МБ. Удалите ненужное и очистите корзину.",
        "The file may now be at most {free_mb} MB. Delete what is not needed and empty the bin."),
}


def detail(code: str, lang: str, params: dict) -> str | None:
    texts = DETAILS.get(code)
    if texts is None:
        return None
    try:
        return (texts[1] if lang == "en" else texts[0]).format(**params)
    except (KeyError, IndexError, ValueError):
        return None


def message(code: str, lang: str) -> str:
    ru, en = MESSAGES.get(code, ("Запрос отклонён.", "The request was refused."))
    return en if lang == "en" else ru


def field_message(error_type: str, lang: str) -> str:
    ru, en = FIELD_MESSAGES.get(error_type, FIELD_MESSAGES["value_error"])
    return en if lang == "en" else ru
