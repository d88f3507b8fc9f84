"""A steady load of commands through the gateway's HTTP API, recording every
answer: onboarding journeys (invitation, registration, rules, profile,
moderator decision, a resubmitted profile after a request for changes), and for those admitted to
the Main group, taking a place in the season's event (a few places: most end up in line) and, for some,
giving it up again at once (the first in line moves up), joining an open working group, scheduling a call
in it, writing in its chat, and creating a task there assigned to its coordinator and moving it to
"in progress". In the group they joined, members race for the roles of the season's pick window (opened at
the start by the calendar closing a season of the load's own): each picks up to two roles still open on the
board (the first places of roles 1–3 made two by the group's coordinator), a quarter try a third one over
the maximum, and a third give one up again at once. Every newcomer sets their notification preferences first
(no quiet hours, so their e-mails go whatever the time of day; Russian or English), the admin too at the start;
a third of those decided on mark what they were told read.

HR-ВЛИЯНИЕ feedback (issue 15): at the start the load sets up a game of its own — a season with an in-person
game event, two game-team groups (the admin's, and one a new member proposes) whose teams the calendar
confirms, three members given the observer role and assigned to the game, round 1 opened by its host (the
admin). While the load runs, each observer writes and rewrites (new words every time) its feedback for one
team or the other in the open round, and now and then for the round before, closed (refused by its rule);
every few seconds the host closes the open round (its feedback is published and changes no more) and opens
the next. The last round is closed when the load stops.

Each command carries its own ``X-Correlation-Id``; the events it appends carry
it too, which is how the checks find a command's events in the log.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from libs.contracts.feedback import MAX_ROUNDS
from tests.chaos.harness import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.e2e.journey import FULL_PROFILE as PROFILE

PASSWORD = "chaos-pass-123"
#: an observer's feedback in the unified format (the recommendation gets a new ending at every write)
WORDS = {
    "situation": "Команда распределяла роли в первые десять минут раунда",
    "behaviour": "Капитан сам назначил всех, никого не спросив о предпочтениях",
    "impact": "Двое участников молчали до конца раунда и не предложили своих идей",
    "recommendation": "В следующем раунде спросите каждого, какую задачу он хочет взять",
}


class SetupFailed(RuntimeError):
    """The load's game could not be set up (with every process up, before any disruption)."""


@dataclass
class Call:
    # invite | register | rules | profile | decision | group | join | call | message | task | task_status | upload
    # | season | cal_register | cal_cancel | window | capacity | pick | unpick | prefs | mark_read
    # | game | observer_role | fb_assign | fb_open | fb_close | fb_write | setup (the game's teams: not checked)
    kind: str
    cid: str
    ok: bool
    status: int | None
    body: Any
    params: dict[str, Any]
    t: float
    #: refused by the rule the call put to the test (a vacancy filled in a race, the maximum of picks): an
    #: answer, not a failure
    expected: bool = False
    #: when the request was sent (``t`` is when its answer came)
    sent: float = 0.0


@dataclass
class Load:
    base_url: str
    rate: float = 30.0  # commands per second, at most
    concurrency: int = 8
    seed: int = 1
    calls: list[Call] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _next_slot: float = 0.0
    _admin: str | None = None
    _group: str | None = None
    _admin_id: str | None = None
    #: the season's event members take places in (the season opened by the admin at the start)
    season_id: str | None = None
    event_id: str | None = None
    #: its places: few, so a line forms and cancellations promote
    capacity: int = 6
    #: each member's access token, to read back what they uploaded once the disruption is over
    tokens: dict[str, str] = field(default_factory=dict)
    #: the season of the pick window the load opened (None: no roles in this run)
    roles_season: str | None = None
    #: roles whose places in the load's group the coordinator makes two, and how many each member picks at most
    doubled_roles: tuple[int, ...] = (1, 2, 3)
    #: the feedback game (set up at the start unless ``feedback`` is false)
    feedback: bool = True
    observers_n: int = 3
    #: seconds between the host's closing a round and opening the next
    round_s: float = 4.0
    game_id: str | None = None
    game_season: str | None = None
    #: the game's teams, and a token of a member of each (to read what the team reads)
    teams: dict[str, str] = field(default_factory=dict)
    #: observer id -> access token
    observers: dict[str, str] = field(default_factory=dict)
    #: the round the host opened last and has not closed (as far as the answers tell), and the last it opened
    open_round: int | None = None
    _last_round: int = 0
    #: members the game needs (observers, a team's coordinator): a scenario does not erase them
    game_people: set[str] = field(default_factory=set)
    #: members a scenario erased: their tokens are refused from then on (``checks.check_files``)
    erased: set[str] = field(default_factory=set)
    #: why the game could not be set up (None: set up, or not asked)
    game_error: str | None = None

    # ------------------------------------------------------------ control

    async def start(self) -> Load:
        self._rng = random.Random(self.seed)
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(15.0, connect=2.0))
        self._admin = await self._login(ADMIN_EMAIL, ADMIN_PASSWORD, retry=True)
        me = await self._client.get("/v1/me", headers={"Authorization": f"Bearer {self._admin}"})
        self._admin_id = me.json()["member_id"] if me.status_code == 200 else None  # the group's coordinator
        # the admin hears of every new applicant by e-mail at once, whatever the time of day (no quiet hours)
        for _ in range(20):
            if (await self._call("prefs", "PUT", "/v1/me/notification-preferences", self._admin,
                                 {"member_id": self._admin_id}, {"no_quiet_hours": True})).ok:
                break
            await asyncio.sleep(0.5)
        for _ in range(20):  # the working group the admitted join
            made = await self._call("group", "POST", "/v1/groups", self._admin, {}, {
                "title": f"Нагрузка {self.seed}", "group_type": "practice", "direct": True,
                "settings": {"joining": "open", "content": "main"}})
            if made.ok:
                self._group = made.body["group_id"]
                break
            await asyncio.sleep(0.5)
        await self._season()
        await self._pick_window()
        if self.feedback:
            try:
                await self._game()
            except SetupFailed as e:
                self.game_error = str(e)
        self._tasks = [asyncio.create_task(self._worker(i)) for i in range(self.concurrency)]
        if self.open_round is not None:
            self._tasks += [asyncio.create_task(self._observer(o)) for o in self.observers]
            self._tasks.append(asyncio.create_task(self._host()))
        return self

    async def _season(self) -> None:
        """A season of its own (per load: the probe has one too) with one event, opened for registrations."""
        season_id = f"{2300 + self.seed}-spring"
        year = 2300 + self.seed
        plan = {"kind": "online_meeting", "title": f"Нагрузка {self.seed}", "starts_at": f"{year}-03-10T13:00:00Z",
                "ends_at": f"{year}-03-10T14:30:00Z", "call_link": "https://meet.example.org/chaos",
                "capacity": self.capacity, "host_id": self._admin_id}
        steps = (("POST", "/v1/seasons", {"season_id": season_id, "title": f"Нагрузка {self.seed}"}),
                 ("POST", f"/v1/seasons/{season_id}/events", plan), ("POST", f"/v1/seasons/{season_id}/open", None))
        for method, url, body in steps:
            for _ in range(20):
                made = await self._call("season", method, url, self._admin, {"season_id": season_id}, body)
                if made.ok or made.status in (409,):  # done (by an earlier try whose answer was lost)
                    break
                await asyncio.sleep(0.5)
            else:
                return  # no calendar in this run: the checks find no registration to hold to account
            if url.endswith("/events") and made.ok:
                self.event_id = made.body["event_id"]
        self.season_id = season_id if self.event_id else None

    async def _pick_window(self) -> None:
        """The calendar closes a season of the load's own: the roles service opens the window for the next one;
        the group's coordinator (the admin) then makes two places of the first roles."""
        year = 2600 + self.seed
        season_id = f"{year}-spring"
        plan = {"kind": "online_meeting", "title": f"Окно {self.seed}", "starts_at": f"{year}-03-10T13:00:00Z",
                "ends_at": f"{year}-03-10T14:30:00Z", "call_link": "https://meet.example.org/chaos", "capacity": 5,
                "host_id": self._admin_id}
        for method, url, body in (("POST", "/v1/seasons", {"season_id": season_id, "title": f"Окно {self.seed}"}),
                                  ("POST", f"/v1/seasons/{season_id}/events", plan),
                                  ("POST", f"/v1/seasons/{season_id}/open", None),
                                  ("POST", f"/v1/seasons/{season_id}/close", None)):
            for _ in range(20):
                made = await self._call("window", method, url, self._admin, {"season_id": season_id}, body)
                if made.ok or made.status in (409,):
                    break
                await asyncio.sleep(0.5)
            else:
                return  # no calendar in this run: no window, no picks
        headers = {"Authorization": f"Bearer {self._admin}"}
        for _ in range(100):  # the roles service opens it from the calendar's event
            try:
                window = (await self._client.get("/v1/roles/window", headers=headers)).json()
            except (httpx.HTTPError, ValueError):
                window = {}
            if window.get("status") == "open" and window.get("season_id") == f"{year}-autumn":
                self.roles_season = window["season_id"]
                break
            await asyncio.sleep(0.2)
        if self.roles_season is None or self._group is None:
            return
        for role in self.doubled_roles:
            for _ in range(20):
                made = await self._call("capacity", "PUT", f"/v1/groups/{self._group}/roles/{role}/capacity",
                                        self._admin, {"group_id": self._group, "role": role,
                                                      "season_id": self.roles_season}, {"capacity": 2})
                if made.ok:
                    break
                await asyncio.sleep(0.5)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for _ in range(20):  # the host closes the last round: every piece of feedback is published
            if self.open_round is None or await self._close_round():
                break
            await asyncio.sleep(0.5)
        await self._client.aclose()

    # ------------------------------------------------------------ the feedback game

    async def _until(self, kind: str, method: str, url: str, token: str | None, params: dict, body=None, *,
                     done=lambda c: c.ok, tries: int = 40) -> Call:
        """One step of a set-up, sent again until ``done`` says it is (a service still learning by events,
        an earlier try whose answer was lost)."""
        for _ in range(tries):
            made = await self._call(kind, method, url, token, params, body)
            if done(made):
                return made
            await asyncio.sleep(0.5)
        raise SetupFailed(f"{kind} {method} {url}: {made.status} {str(made.body)[:200]}")

    async def _member(self) -> tuple[str, str, str]:
        """A member admitted to Main, by the same calls as a journey: (member id, e-mail, access token)."""
        inv = await self._until("invite", "POST", "/v1/invitations", self._admin, {},
                                {"max_uses": 1, "expires_in_days": 7})
        email = f"chaos-fb-{uuid.uuid4().hex[:12]}@example.ru"
        token = inv.body["token"]
        reg = await self._until("register", "POST", "/v1/registrations", None, {"invitation": token, "email": email}, {
            "invitation_token": token, "email": email, "password": PASSWORD, "full_name": "Наблюдатель Игры",
            "consent_personal_data": True}, tries=1)
        member_id = reg.body["member_id"]
        self.game_people.add(member_id)
        access = await self._login(email, PASSWORD, retry=True)
        await self._until("rules", "POST", "/v1/me/rules-acknowledgement", access, {"member_id": member_id}, tries=1)
        await self._until("profile", "PUT", "/v1/me/profile", access, {"member_id": member_id}, PROFILE, tries=1)
        await self._until("decision", "POST", f"/v1/moderation/{member_id}/decision", self._admin,
                          {"member_id": member_id, "decision": "grant"}, {"decision": "grant"}, tries=1)
        return member_id, email, access

    async def _game(self) -> None:
        """A game of the load's own, with two confirmed teams, assigned observers and round 1 open."""
        if self._admin_id is None:
            raise SetupFailed("the admin's member id is unknown")
        people = [await self._member() for _ in range(self.observers_n + 1)]
        (coordinator_id, _, coordinator), observers = people[0], people[1:]
        year = 2900 + self.seed
        season_id = f"{year}-spring"
        plan = {"kind": "game", "title": f"Игра {self.seed}", "starts_at": f"{year}-04-11T07:00:00Z",
                "ends_at": f"{year}-04-11T12:00:00Z", "place": "Екатеринбург, ул. Ленина, 1", "capacity": 4,
                "host_id": self._admin_id}
        again = lambda c: c.ok or c.status == 409  # noqa: E731 - done by an earlier try whose answer was lost
        await self._until("game", "POST", "/v1/seasons", self._admin, {"season_id": season_id},
                          {"season_id": season_id, "title": f"Игра {self.seed}"}, done=again)
        made = await self._until("game", "POST", f"/v1/seasons/{season_id}/events", self._admin,
                                 {"season_id": season_id}, plan)
        game_id = made.body["event_id"]
        await self._until("game", "POST", f"/v1/seasons/{season_id}/open", self._admin, {"season_id": season_id},
                          done=again)
        # two game teams: the admin's (created at once) and one a new member proposes and a moderator approves
        team = {"description": "", "group_type": "game_team", "settings": {"joining": "open", "content": "main"}}
        mine = await self._until("setup", "POST", "/v1/groups", self._admin, {},
                                 {**team, "title": f"Команда A {self.seed}", "direct": True})
        theirs = await self._until("setup", "POST", "/v1/groups", coordinator, {},
                                   {**team, "title": f"Команда B {self.seed}"})
        await self._until("setup", "POST", f"/v1/groups/{theirs.body['group_id']}/decision", self._admin, {},
                          {"decision": "approve"})
        teams_url = f"/v1/seasons/{season_id}/events/{game_id}/teams"
        for (group_id, token, roster) in ((mine.body["group_id"], self._admin, [self._admin_id]),
                                          (theirs.body["group_id"], coordinator, [coordinator_id])):
            await self._until("setup", "POST", teams_url, token, {}, {"group_id": group_id, "roster": roster})
            await self._until("setup", "POST", f"{teams_url}/{group_id}/confirm", self._admin, {})
            self.teams[group_id] = token
        # the observers: the role, then a place at the game (once the feedback service knows both)
        url = f"/v1/games/{game_id}"
        for member_id, email, _ in observers:
            await self._until("observer_role", "PUT", f"/v1/members/{member_id}/roles", self._admin,
                              {"member_id": member_id}, {"roles": ["observer"]})
            self.observers[member_id] = await self._login(email, PASSWORD, retry=True)
        for _ in range(100):  # the feedback service keeps the game and its teams from the calendar's events
            seen = await self._client.get(url, headers={"Authorization": f"Bearer {self._admin}"})
            if seen.status_code == 200 and {t["group_id"] for t in seen.json()["teams"]} == set(self.teams):
                break
            await asyncio.sleep(0.2)
        else:
            raise SetupFailed(f"the feedback service does not show the game's teams: {seen.status_code} {seen.text}")
        for member_id in self.observers:
            await self._until("fb_assign", "PUT", f"{url}/observers/{member_id}", self._admin,
                              {"game_id": game_id, "observer_id": member_id})
        self.game_id, self.game_season = game_id, season_id
        if not await self._open_round():
            raise SetupFailed("the host could not open round 1")

    # The host follows the rounds by the commands' own answers, decided on the game's aggregate: how many rounds
    # it opened, the round a refused open names as open, a refused close saying none is. Not by the game as
    # the answers or the page show it: that is the read model, which may lag (an answer waits for it a
    # bounded time, then answers as it stands).

    async def _open_round(self) -> bool:
        """The host opens the next round; whether one is open now (and which: ``open_round``)."""
        for _ in range(20):
            made = await self._call("fb_open", "POST", f"/v1/games/{self.game_id}/rounds", self._admin,
                                    {"game_id": self.game_id})
            if made.ok:
                self._last_round += 1
                self.open_round = made.params["round_no"] = self._last_round
                return True
            if made.status == 409 and isinstance(made.body, dict) and made.body.get("code") == "round_already_open":
                # an earlier try whose answer was lost opened it
                made.expected = True
                self.open_round = self._last_round = made.body["params"]["round_no"]
                return True
            if made.status == 409 or self._stop.is_set():  # too many rounds
                return False
            await asyncio.sleep(0.5)
        return False

    async def _close_round(self) -> bool:
        """The host closes the open round; whether none is open now."""
        made = await self._call("fb_close", "POST", f"/v1/games/{self.game_id}/rounds/close", self._admin,
                                {"game_id": self.game_id, "round_no": self.open_round})
        if made.status == 409 and isinstance(made.body, dict) and made.body.get("code") == "no_round_open":
            made.expected = True  # closed by an earlier try whose answer was lost
        if made.ok or made.expected:
            self.open_round = None
        return self.open_round is None

    async def _host(self) -> None:
        """Every ``round_s`` seconds the host closes the open round (trying again until it is closed) and opens
        the next (20 at most)."""
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), self.round_s)
                return
            except TimeoutError:
                pass
            try:
                while self.open_round is not None and not await self._close_round():
                    if self._stop.is_set():
                        return
                    await asyncio.sleep(0.5)  # the host tries again
                if self._last_round < MAX_ROUNDS:
                    await self._open_round()
            except Exception as e:  # noqa: BLE001 - the load never dies of one surprise
                self.errors[f"host:{type(e).__name__}"] = self.errors.get(f"host:{type(e).__name__}", 0) + 1

    async def _observer(self, observer_id: str) -> None:
        """Write and rewrite one's feedback for the game's teams in the open round, new words every time; one
        time in ten, for the round before (closed: refused by its rule)."""
        token, n = self.observers[observer_id], 0
        teams = sorted(self.teams)
        while not self._stop.is_set():
            round_no = self.open_round
            if round_no is None:
                await asyncio.sleep(0.2)
                continue
            if round_no > 1 and self._rng.random() < 0.1:
                round_no -= 1
            n += 1
            group_id = self._rng.choice(teams)
            quality, role = self._rng.choice([("expertise", 5), ("expertise", None), ("systemic", None)])
            words = {**WORDS, "recommendation": f"{WORDS['recommendation']} (версия {n} от {observer_id[:8]})"}
            params = {"game_id": self.game_id, "round_no": round_no, "group_id": group_id,
                      "observer_id": observer_id, "words": words, "quality": quality, "role": role}
            written = await self._call("fb_write", "PUT", f"/v1/games/{self.game_id}/rounds/{round_no}/teams/"
                                       f"{group_id}/feedback", token, params, {**words, "quality": quality,
                                                                               "role": role})
            if not written.ok and written.status in (403, 409) and isinstance(written.body, dict) and \
                    written.body.get("code") in ("round_closed", "assigned_observers_only"):
                written.expected = True
            elif not written.ok:
                await asyncio.sleep(0.2)  # something is down: do not spin

    @property
    def team_readers(self) -> dict[str, str]:
        """A member's token per team of the game, for the teams whose member is no moderator (the admin's team
        is read as a moderator reads it)."""
        return {g: t for g, t in self.teams.items() if t != self._admin}

    @property
    def acked(self) -> list[Call]:
        return [c for c in self.calls if c.ok]

    @property
    def failed(self) -> list[Call]:
        return [c for c in self.calls if not c.ok and not c.expected]

    def summary(self) -> str:
        kinds: dict[str, list[int]] = {}
        for c in self.calls:
            k = kinds.setdefault(c.kind, [0, 0, 0])
            k[0 if c.ok else 2 if c.expected else 1] += 1
        why = Counter((c.kind, c.status, c.body.get("code") if isinstance(c.body, dict) else None) for c in self.failed)
        return ", ".join(f"{k}: {ok} ok/{bad} failed" + (f"/{refused} refused by their rule" if refused else "")
                         for k, (ok, bad, refused) in sorted(kinds.items())) + (
            f"; errors {self.errors}; failures {dict(why.most_common(6))}" if self.errors else "")

    def rate_between(self, t0: float, t1: float) -> float:
        """Acknowledged commands per second between two wall-clock times."""
        return sum(1 for c in self.acked if t0 <= c.t < t1) / max(t1 - t0, 1e-6)

    async def wait_for(self, acked: int, timeout: float = 30.0) -> None:
        """Until ``acked`` more commands than now were acknowledged."""
        target = len(self.acked) + acked
        deadline = time.monotonic() + timeout
        while len(self.acked) < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"load made no progress: {self.summary()}")
            await asyncio.sleep(0.05)

    # ------------------------------------------------------------ one request

    async def _pace(self) -> None:
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / self.rate
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _login(self, email: str, password: str, retry: bool = False) -> str | None:
        for _ in range(100 if retry else 1):
            try:
                r = await self._client.post("/v1/auth/token", json={"email": email, "password": password})
                if r.status_code == 200:
                    return r.json()["access_token"]
            except httpx.HTTPError:
                pass
            if not retry:
                return None
            await asyncio.sleep(0.2)
        raise RuntimeError("admin cannot sign in")

    async def _call(self, kind: str, method: str, url: str, token: str | None, params: dict, json_body=None,
                    content: bytes | None = None) -> Call:
        await self._pace()
        cid = str(uuid.uuid4())  # a correlation id the gateway keeps (only UUIDs are kept)
        headers = {"X-Correlation-Id": cid}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status = body = None
        sent = time.time()
        try:
            body_of = {"content": content} if content is not None else {"json": json_body}
            r = await self._client.request(method, url, headers=headers, **body_of)
            status = r.status_code
            try:
                body = r.json()
            except ValueError:
                body = r.text
        except httpx.HTTPError as e:
            body = repr(e)
            self.errors[type(e).__name__] = self.errors.get(type(e).__name__, 0) + 1
        call = Call(kind, cid, status is not None and 200 <= status < 300, status, body, params, time.time(),
                    sent=sent)
        self.calls.append(call)
        if not call.ok and status is not None:
            self.errors[str(status)] = self.errors.get(str(status), 0) + 1
        return call

    # ------------------------------------------------------------ journeys

    async def _worker(self, i: int) -> None:
        while not self._stop.is_set():
            try:
                done = await self._journey()
            except Exception as e:  # noqa: BLE001 - the load never dies of one surprise
                self.errors[f"journey:{type(e).__name__}"] = self.errors.get(f"journey:{type(e).__name__}", 0) + 1
                done = False
            if not done:
                await asyncio.sleep(0.2)  # something is down: do not spin

    async def _journey(self) -> bool:
        inv = await self._call("invite", "POST", "/v1/invitations", self._admin, {},
                               {"max_uses": 1, "expires_in_days": 7})
        if not inv.ok:
            return False
        email = f"chaos-{uuid.uuid4().hex[:12]}@example.ru"
        token = inv.body["token"]
        reg = await self._call("register", "POST", "/v1/registrations", None, {"invitation": token, "email": email}, {
            "invitation_token": token, "email": email, "password": PASSWORD,
            "full_name": "Нагрузочный Тест", "consent_personal_data": True})
        if not reg.ok:
            return False
        member_id = reg.body["member_id"]
        await self._pace()
        access = await self._login(email, PASSWORD)
        if not access:
            return False
        if self._stop.is_set():
            return True
        # e-mails at once whatever the time of day, in the language they chose
        # (the notifications service away: they go on with the defaults)
        await self._call("prefs", "PUT", "/v1/me/notification-preferences", access, {"member_id": member_id},
                         {"no_quiet_hours": True, "language": self._rng.choice(["ru", "en"])})
        if self._stop.is_set():
            return True
        if not (await self._call("rules", "POST", "/v1/me/rules-acknowledgement", access, {"member_id": member_id})).ok:
            return False
        if not (await self._call("profile", "PUT", "/v1/me/profile", access, {"member_id": member_id}, PROFILE)).ok:
            return False
        decision = self._rng.choice(["grant", "grant", "request_changes", "decline"])
        body = {"decision": decision, "message": None if decision == "grant" else "Причина"}
        d = await self._call("decision", "POST", f"/v1/moderation/{member_id}/decision", self._admin,
                             {"member_id": member_id, "decision": decision}, body)
        if not d.ok or decision == "decline" or self._stop.is_set():
            return d.ok
        if self._rng.random() < 1 / 3:  # what they were told so far, marked read (the decision's, once raised)
            await self._call("mark_read", "POST", "/v1/notifications/read", access, {"member_id": member_id}, {})
            if self._stop.is_set():
                return True
        if decision == "request_changes":
            again = await self._call("profile", "PUT", "/v1/me/profile", access, {"member_id": member_id},
                                     {**PROFILE, "about": "Исправил."})
            if not again.ok:
                return False
            d = await self._call("decision", "POST", f"/v1/moderation/{member_id}/decision", self._admin,
                                 {"member_id": member_id, "decision": "grant"}, {"decision": "grant"})
            if not d.ok or self._stop.is_set():
                return d.ok
        return await self._working_group(member_id, access)

    async def _working_group(self, member_id: str, access: str) -> bool:
        """Join the load's group and schedule a call there, once the groups service shows the person in
        Main (a policy puts them there after the grant: until then the group is not theirs to see)."""
        if self._group is None:
            return True
        url = f"/v1/groups/{self._group}"
        for _ in range(50):
            try:
                seen = await self._client.get(url, headers={"Authorization": f"Bearer {access}"})
            except httpx.HTTPError:
                seen = None
            if seen is not None and seen.status_code == 200:
                break
            if self._stop.is_set():
                return True
            await asyncio.sleep(0.2)
        else:
            return True  # not in Main in time (the groups service away): nothing asked, nothing to check
        if not await self._calendar(member_id, access) or self._stop.is_set():
            return True  # the calendar away: the groups part goes on next time
        joined = await self._call("join", "POST", f"{url}/join", access, {"member_id": member_id}, {})
        if not joined.ok or self._stop.is_set():
            return joined.ok
        await self._roles(member_id, access)  # the roles away: the group's work goes on
        if self._stop.is_set():
            return True
        starts = time.time() + 86400 + self._rng.randint(0, 86400 * 30)
        call = await self._call("call", "POST", f"{url}/calls", access, {"member_id": member_id}, {
            "topic": "Разбор", "starts_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(starts))})
        if not call.ok or self._stop.is_set():
            return call.ok
        said = await self._call("message", "POST", f"{url}/messages", access, {"member_id": member_id},
                                {"text": "Присоединяюсь к разбору"})
        if not said.ok or self._stop.is_set() or self._admin_id is None:
            return said.ok
        task = await self._call("task", "POST", f"{url}/tasks", access, {"member_id": member_id},
                                {"title": "Разбор кейса", "assignees": [self._admin_id]})
        if not task.ok or self._stop.is_set():
            return task.ok
        moved = await self._call("task_status", "PUT", f"{url}/tasks/{task.body['task_id']}/status", access,
                                 {"member_id": member_id}, {"status": "in_progress", "from_status": "todo"})
        if not moved.ok or self._stop.is_set():
            return moved.ok
        # a file of two segments into the group's drive: streamed in, committed, read back after the disruption
        data = self._rng.randbytes(150_000)
        self.tokens[member_id] = access
        uploaded = await self._call("upload", "POST", f"{url}/files?name=kase.bin", access,
                                    {"member_id": member_id, "sha256": hashlib.sha256(data).hexdigest(),
                                     "group_id": self._group}, content=data)
        return uploaded.ok

    async def _roles(self, member_id: str, access: str) -> bool:
        """Race for the roles still open on the group's board: up to two picks, a quarter try a third (over the
        maximum), a third give one up again at once."""
        if self.roles_season is None or self._group is None:
            return True
        board_url = f"/v1/groups/{self._group}/roles"
        board = None
        for _ in range(25):  # the roles service learns the member joined from the groups' event
            try:
                r = await self._client.get(board_url, headers={"Authorization": f"Bearer {access}"})
                board = r.json() if r.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                board = None
            if board and board.get("can_pick") or self._stop.is_set():
                break
            await asyncio.sleep(0.2)
        if not board or not board.get("can_pick"):
            return True  # not seen in the group in time: nothing asked, nothing to check
        open_roles = [v["role"] for v in board["vacancies"] if v["open"] > 0]
        others = [v["role"] for v in board["vacancies"] if v["role"] not in open_roles]
        self._rng.shuffle(open_roles)
        self._rng.shuffle(others)
        tries = 3 if self._rng.random() < 1 / 4 else 2
        held = []
        for role in (open_roles + others)[:tries]:
            params = {"member_id": member_id, "group_id": self._group, "role": role, "season_id": self.roles_season}
            picked = await self._call("pick", "PUT", f"{board_url}/{role}/pick", access, params)
            if picked.ok:
                held.append(role)
            elif picked.status == 409 and isinstance(picked.body, dict) and picked.body.get("code") in (
                    "vacancy_filled", "picks_max_reached"):
                picked.expected = True
            else:
                return False
            if self._stop.is_set():
                return True
        if held and self._rng.random() < 1 / 3:
            role = held[0]
            params = {"member_id": member_id, "group_id": self._group, "role": role, "season_id": self.roles_season}
            return (await self._call("unpick", "DELETE", f"{board_url}/{role}/pick", access, params)).ok
        return True

    async def _calendar(self, member_id: str, access: str) -> bool:
        """Take a place in the season's event (or a place in line); a third give it up again at once."""
        if self.event_id is None:
            return True
        url = f"/v1/seasons/{self.season_id}/events/{self.event_id}/registration"
        params = {"member_id": member_id, "season_id": self.season_id, "event_id": self.event_id}
        placed = await self._call("cal_register", "PUT", url, access, params)
        if not placed.ok:
            return False
        if self._rng.random() < 1 / 3:
            return (await self._call("cal_cancel", "DELETE", url, access, params)).ok
        return True
