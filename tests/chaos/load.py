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

from tests.chaos.harness import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.e2e.journey import FULL_PROFILE as PROFILE

PASSWORD = "chaos-pass-123"


@dataclass
class Call:
    # invite | register | rules | profile | decision | group | join | call | message | task | task_status | upload
    # | season | cal_register | cal_cancel | window | capacity | pick | unpick | prefs | mark_read
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
        self._tasks = [asyncio.create_task(self._worker(i)) for i in range(self.concurrency)]
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
        await self._client.aclose()

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
        call = Call(kind, cid, status is not None and 200 <= status < 300, status, body, params, time.time())
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
