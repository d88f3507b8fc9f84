"""Fuzzing the live gateway with schemathesis, signed in as each role, on the
development platform and on the HRM_ENV=production one (fixture ``secured``).

The schema is the gateway's OpenAPI document, built in-process with development
settings (production serves no ``/openapi.json``; the development gateway
serves exactly this one: test_the_fuzzed_schema_is_the_served_one). For every
operation schemathesis generates valid (positive) and invalid (negative)
requests, a bounded and seeded number of each; every response must be:
no 5xx, of a status and content type the schema declares, conforming to the
declared schema, and — for every 4xx — problem+json with title, status and
code, the title the code's own words in the language asked for (Russian by
default). A request answered 4xx must append nothing to the event log: the log
position is taken (consumers settled) before and after each such call.

The feedback routes take ids of a world the test builds first (``a_feedback_world``):
a game of its own with a confirmed team, an assigned observer, a closed round with
its published piece and an open round, and a help request routed to the observer.
About half of each feedback operation's cases aim at those ids (the rest keep their
random ones), so its commands are decided on what they carry, not all refused for a
missing target; the observer and the team's member (also the request's asker) fuzz
the feedback routes too (``test_fuzz_the_feedback_routes_as``).

The HTTP calls are blocking (requests), and the gateway runs in this test's
event loop: the fuzzing runs in a worker thread and reaches the loop for the
log position with ``run_coroutine_threadsafe``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis import checks as st_checks

from services.gateway.app import create_app
from services.gateway.i18n import MESSAGES, language, message
from services.gateway.settings import Settings as GatewaySettings
from services.notifications.links import unsubscribe_token
from tests.e2e.helpers import log_position, settle, settled_position
from tests.e2e.journey import login, make_member
from tests.e2e.test_calendar import event_url, game_team, new_season_id, plan
from tests.e2e.test_feedback import HELP, PARTS
from tests.platform_harness import ADMIN_EMAIL, ADMIN_PASSWORD, Platform
from tests.security.conftest import ROLES, Actor, new_guest

pytestmark = [
    pytest.mark.fuzz,
    # schemathesis' negative generation uses `random` inside a strategy; not ours to fix
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

#: per operation, per generation mode, per role; by env. Production runs fewer, with a seed of its own:
#: derandomized alone, it would send development's very cases again. Both stay reproducible. With 175
#: operations the gateway runs took 85-130 s per role and env (19.5 min for the module on two idle
#: cores, the slowest part of `make test`): 12 and 8 kept every operation fuzzed in both modes, about a
#: fifth fewer cases. The module was still the slowest part of `make test` (14-17 min of the 56-63 it took
#: against an aim of 60; development's five roles its five slowest tests): 8 and 6, every operation
#: still fuzzed in both modes as every role on both envs. At 8 and 6 the module still took 888 s of a run
#: of 3,794 (13:19 on 2026-12-06): 6 and 4 now, the same coverage of operations, modes, roles and envs.
MAX_EXAMPLES = {"development": 6, "production": 4}
SEED = {"development": None, "production": 20_260_401}  # None: derandomize (a seed from the test's code)
COMMAND_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: how long a live stream the fuzzer opens lasts at most, whatever it asks for (max_seconds up to a day)
STREAM_SECONDS = 0.2
#: static documents with no input to fuzz (the permission matrix covers them)
NOT_FUZZED_TAGS = {"docs"}
FEEDBACK_TAG = "feedback"
#: the gateway's own refusals: the request never reached the service
EDGE_CODES = {"invalid_fields", "malformed_request", "login_required", "invalid_token", "unauthorized",
              "rate_limited", "payload_too_large", "method_not_allowed", "not_found", "unavailable"}
#: the people of the feedback world who are no role of the suite's: each fuzzes the feedback routes
PERSONAS = ("observer", "team_member")
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_headers_conformance,
    st_checks.response_schema_conformance,
]
# Not `negative_data_rejection`: its "invalid" requests include ones HTTP and pydantic accept by
# design (unknown query parameters are ignored, lax JSON coercion takes `false` for 0), and it
# counts the Authorization header we add as a removed required header.


def _malformed_http(case) -> bool:
    """A generated request whose framing is not HTTP (negative generation adds headers of every kind)."""
    length = next((str(v) for k, v in (case.headers or {}).items() if k.lower() == "content-length"), None)
    return length is not None and not length.isdigit()


@dataclass
class Run:
    statuses: Counter = field(default_factory=Counter)
    accepted_commands: int = 0
    failures: list[str] = field(default_factory=list)
    #: the answers to commands aimed at the feedback world's ids: "ok" or the problem's code
    aimed: Counter = field(default_factory=Counter)

    def decided_past_their_target(self) -> bool:
        """Some command aimed at the world reached the service and was accepted or refused for something else
        than a missing target (the edge's refusals of a request's form or its token do not count)."""
        return any(code not in EDGE_CODES and not code.endswith("not_found") for code in self.aimed)


def gateway_schema():
    """The OpenAPI document of the gateway with development settings, as schemathesis reads it
    (a fresh one each time: loading modifies the dict in place)."""
    return schemathesis.openapi.from_dict(create_app(GatewaySettings()).openapi())


def aiming(operation, aim: dict[str, object]):
    """A map over the operation's cases that puts the world's ids in its path (None: it has none to aim)."""
    names = {p.name for p in operation.path_parameters} & set(aim) if FEEDBACK_TAG in (operation.tags or ()) \
        else set()
    if not names:
        return None

    def aimed(case):
        case.path_parameters = {**case.path_parameters, **{name: aim[name] for name in names}}
        return case

    return aimed


def fuzz(schema, base_url: str, headers: dict[str, str], protected_ids: set[str], probe, run: Run,
         max_examples: int, seed: int | None, aim: dict[str, object] | None = None,
         only_tags: set[str] | None = None) -> None:
    """Blocking: every operation (or those of ``only_tags``), positive then negative; failures are collected,
    not raised. About half the cases of a feedback operation aim at ``aim``'s ids."""
    session = requests.Session()
    aim = aim or {}

    def exercise(case) -> None:
        # random ids only: never aim a generated request at the fixtures' own accounts
        hypothesis.assume(not protected_ids & {str(v) for v in (case.path_parameters or {}).values()})
        before = probe()
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        status = response.status_code
        if _malformed_http(case):
            # not HTTP at all (a Content-Length that is no number): the server refuses it before the
            # application sees it, in its own words (text/plain); it must change nothing
            run.statuses[status] += 1
            assert status == 400, (status, response.text)
            assert probe() == before, "a request the server refused as malformed grew the log"
            return
        run.statuses[status] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)
        is_aimed = case.method.upper() in COMMAND_METHODS and any(
            case.path_parameters.get(name) == value for name, value in aim.items())
        if 200 <= status < 300 and case.method.upper() in COMMAND_METHODS:
            run.accepted_commands += 1
            if is_aimed:
                run.aimed["ok"] += 1
        if 400 <= status < 500:
            content_type = (response.headers.get("content-type") or [""])[0]  # lower-case keys, list values
            assert content_type.startswith("application/problem+json"), (content_type, response.text)
            body = response.json()
            assert body["status"] == status, body
            assert isinstance(body["title"], str) and body["title"], body
            assert isinstance(body["code"], str) and body["code"], body
            # clear: the code's own words (no generic fallback), in the language asked for, Russian by default
            lang = language(response.request.headers.get("accept-language"))
            assert body["code"] in MESSAGES and body["title"] == message(body["code"], lang), (lang, body)
            assert response.headers.get("content-language") == [lang], (response.headers, body)
            if is_aimed:
                run.aimed[body["code"]] += 1
            after = probe()
            assert after == before, f"refused with {status} {body['code']} yet the log grew {before} -> {after}"

    for result in schema.get_all_operations():
        operation = result.ok()
        if NOT_FUZZED_TAGS & set(operation.tags or ()):
            continue
        if only_tags is not None and not only_tags & set(operation.tags or ()):
            continue
        aimed = aiming(operation, aim)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            if aimed is not None:
                strategy = st.one_of(strategy, strategy.map(aimed))

            @hypothesis.settings(
                max_examples=max_examples,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time; the failing case is shown
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(case=strategy)
            def test(case) -> None:
                exercise(case)

            if seed is not None:
                test = hypothesis.seed(seed)(test)  # overrides derandomize

            try:
                test()
            except hypothesis.errors.Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise
                # nothing to negate: the operation takes no parameters and no body
            except (Exception, BaseExceptionGroup) as e:  # noqa: BLE001 - collect all, report together
                run.failures.append(f"{operation.label} [{mode.value}]: {type(e).__name__}: {e}")


async def test_the_fuzzed_schema_is_the_served_one(platform):
    """What the development gateway serves at /openapi.json is the document fuzzed on both envs."""
    async with platform.client() as c:
        served = (await c.get("/openapi.json")).json()
    assert served == create_app(GatewaySettings()).openapi()


async def open_a_pick_window(platform, admin: str) -> None:
    """The calendar closes a season of its own: the roles service opens the pick window for the next one, so the
    roles' commands are decided on what they carry (capacities set, picks refused by their rule) rather than
    all refused because no window is open."""
    season_id = new_season_id()
    host = (await login(platform, ADMIN_EMAIL, ADMIN_PASSWORD))["access_token"]
    async with platform.client(host) as c:
        host_id = (await c.get("/v1/me")).json()["member_id"]
    async with platform.client(admin) as c:
        for url, body in (("/v1/seasons", {"season_id": season_id, "title": "Фаззинг"}),
                          (f"/v1/seasons/{season_id}/events", plan(season_id, host_id)),
                          (f"/v1/seasons/{season_id}/open", None), (f"/v1/seasons/{season_id}/close", None)):
            r = await c.post(url, json=body)
            assert r.status_code in (200, 201), r.text
    await settle(platform)
    async with platform.client(admin) as c:
        assert (await c.get("/v1/roles/window")).json()["status"] == "open"


async def tell_every_role(platform, actors) -> None:
    """A personal message to every role signed in (the admin writes to the others, the moderator to the admin):
    each has unread notifications, so marking read is decided on real ones rather than on none."""
    for role in ("guest", "member", "moderator", "admin"):
        writer = actors["moderator" if role == "admin" else "admin"].token
        async with platform.client(writer) as c:
            r = await c.post(f"/v1/conversations/{actors[role].member_id}/messages", json={"text": "Фаззинг"})
            assert r.status_code == 201, r.text
    await settle(platform)


@dataclass(frozen=True)
class FeedbackPeople:
    observer: Actor
    #: the game team's coordinator, on its roster
    team_member: Actor
    group_id: str


#: the feedback world's people, once a platform (by its env)
_FEEDBACK_PEOPLE: dict[str, tuple[Platform, FeedbackPeople]] = {}


async def feedback_people(platform: Platform, admin: str) -> FeedbackPeople:
    """A member with the observer role, and a game team of its own coordinator (who asks for help too); none of
    them a fixture of the security suites, so the fuzzer may aim at them."""
    cached = _FEEDBACK_PEOPLE.get(platform.env)
    if cached is None or cached[0] is not platform:
        observer_id, email, _ = await make_member(platform, admin)
        async with platform.client(admin) as c:
            r = await c.put(f"/v1/members/{observer_id}/roles", json={"roles": ["observer"]})
            assert r.status_code == 200, r.text
        observer = (await login(platform, email, "s3cret-pass"))["access_token"]
        group_id, coordinator_id, coordinator = await game_team(platform, admin, admin)
        people = FeedbackPeople(Actor("observer", observer, observer_id),
                                Actor("team_member", coordinator, coordinator_id), group_id)
        _FEEDBACK_PEOPLE[platform.env] = cached = (platform, people)
    return cached[1]


async def a_feedback_world(platform: Platform, admin: Actor) -> tuple[dict[str, object], FeedbackPeople]:
    """A game of its own (a test's fuzzing may close its rounds and take its observer off): its team confirmed
    by the calendar, the observer assigned, round 1 closed with the observer's piece published, round 2 open;
    and the team member's help request routed to the observer. Returns the ids the fuzzer aims at, by path
    parameter, and the people."""
    people = await feedback_people(platform, admin.token)
    observer, member, group_id = people.observer, people.team_member, people.group_id
    season_id = new_season_id()
    game = {**plan(season_id, admin.member_id, title="Игра под фаззингом", capacity=4), "kind": "game",
            "place": "Екатеринбург", "call_link": None}

    async def ok(token: str, method: str, url: str, body=None) -> dict:
        async with platform.client(token) as c:
            r = await c.request(method, url, json=body)
        assert r.status_code in (200, 201), (method, url, r.text)
        return r.json()

    await ok(admin.token, "POST", "/v1/seasons", {"season_id": season_id, "title": "Фаззинг обратной связи"})
    game_id = (await ok(admin.token, "POST", f"/v1/seasons/{season_id}/events", game))["event_id"]
    await ok(admin.token, "POST", f"/v1/seasons/{season_id}/open")
    teams = event_url(season_id, game_id) + "/teams"
    await ok(member.token, "POST", teams, {"group_id": group_id, "roster": [member.member_id]})
    await ok(admin.token, "POST", f"{teams}/{group_id}/confirm")
    await settle(platform)
    games = f"/v1/games/{game_id}"
    await ok(admin.token, "PUT", f"{games}/observers/{observer.member_id}")
    await ok(admin.token, "POST", f"{games}/rounds")
    written = await ok(observer.token, "PUT", f"{games}/rounds/1/teams/{group_id}/feedback",
                       {**PARTS, "quality": "expertise"})
    await ok(admin.token, "POST", f"{games}/rounds/close")
    await ok(admin.token, "POST", f"{games}/rounds")
    request_id = (await ok(member.token, "POST", "/v1/help-requests", HELP))["request_id"]
    await ok(admin.token, "POST", f"/v1/help-requests/{request_id}/route", {"expert_id": observer.member_id})
    await settle(platform)
    got = await ok(member.token, "GET", f"{games}/teams/{group_id}/feedback")
    assert [(i["feedback_id"], i["status"]) for i in got["items"]] == [(written["feedback_id"], "published")], got
    aim = {"game_id": game_id, "group_id": group_id, "observer_id": observer.member_id, "round_no": 2,
           "feedback_id": written["feedback_id"], "request_id": request_id}
    return aim, people


async def fuzz_as(platform: Platform, actors: dict[str, Actor], me: Actor, aim: dict[str, object],
                  only_tags: set[str] | None = None) -> tuple[Run, str]:
    """Fuzz the gateway as ``me`` (in a worker thread), the log's growth reported; (the run, its summary)."""
    loop = asyncio.get_running_loop()
    protected_ids = {a.member_id for a in actors.values() if a.member_id}

    def probe() -> int:
        return asyncio.run_coroutine_threadsafe(settled_position(platform), loop).result(timeout=30)

    schema = gateway_schema()
    await settle(platform)
    start = await log_position(platform)
    run = Run()
    with platform.bounded_streams(STREAM_SECONDS):
        await asyncio.to_thread(fuzz, schema, platform.base_url, me.headers, protected_ids, probe, run,
                                MAX_EXAMPLES[platform.env], SEED[platform.env], aim, only_tags)
    await settle(platform)
    grown = await log_position(platform) - start

    summary = f"{platform.env} {me.role}: {sum(run.statuses.values())} requests, " \
              f"statuses {dict(sorted(run.statuses.items()))}, " \
              f"{run.accepted_commands} accepted commands, log grew by {grown}; " \
              f"commands aimed at the feedback world: {dict(sorted(run.aimed.items()))}"
    print(summary)
    assert not run.failures, summary + "\n\n" + "\n\n".join(run.failures)
    assert sum(run.statuses.values()) > 0
    if run.accepted_commands == 0:
        assert grown == 0, summary
    return run, summary


async def the_fixtures_survived(platform: Platform, actors: dict[str, Actor]) -> None:
    """The admin still signs in as admin, every actor's token still works."""
    tokens = await login(platform, ADMIN_EMAIL, ADMIN_PASSWORD)
    async with platform.client(tokens["access_token"]) as c:
        assert "admin" in (await c.get("/v1/me")).json()["roles"]
    for actor in actors.values():
        if actor.token:
            async with platform.client(actor.token) as c:
                assert (await c.get("/v1/me")).status_code == 200, actor.role


@pytest.mark.timeout(300)
@pytest.mark.parametrize("role", ROLES)
async def test_fuzz_the_gateway_as(secured, role):
    platform, actors = secured
    await open_a_pick_window(platform, actors["admin"].token)
    await tell_every_role(platform, actors)
    aim, _ = await a_feedback_world(platform, actors["admin"])
    run, summary = await fuzz_as(platform, actors, actors[role], aim)
    if role in ("moderator", "admin"):
        # the game's rounds are theirs to open and close, its observers theirs to assign
        assert "ok" in run.aimed, summary
    if role == "member":
        assert run.decided_past_their_target(), summary
    await the_fixtures_survived(platform, actors)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("persona", PERSONAS)
async def test_fuzz_the_feedback_routes_as(secured, persona):
    """The feedback routes as the world's own people: the assigned observer writes in the open round (every part
    checked), the team's member answers the published piece and talks in, then closes, the request they asked."""
    platform, actors = secured
    aim, people = await a_feedback_world(platform, actors["admin"])
    run, summary = await fuzz_as(platform, actors, getattr(people, persona), aim, only_tags={FEEDBACK_TAG})
    assert run.decided_past_their_target(), summary
    if persona == "team_member":
        assert "ok" in run.aimed, summary  # an answer to the piece, a message, the close
    await the_fixtures_survived(platform, actors)


# ---------------------------------------------------------------- notifications: real targets, made over


def _links(secret: str, member_id: str, other_id: str):
    """(the genuine tokens: the target's for event_changed and mention, another member's for event_changed;
    a strategy of tokens near them: characters changed, cut, added, case flipped, parts swapped between them,
    padding, extra dots — and the genuine ones themselves now and then)."""
    genuine = {unsubscribe_token(secret, member_id, "event_changed"): (member_id, "event_changed"),
               unsubscribe_token(secret, member_id, "mention"): (member_id, "mention"),
               unsubscribe_token(secret, other_id, "event_changed"): (other_id, "event_changed")}
    tokens = list(genuine)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="

    @st.composite
    def made_over(draw) -> str:
        token = draw(st.sampled_from(tokens))
        for _ in range(draw(st.integers(1, 3))):
            how = draw(st.sampled_from(["change", "cut", "add", "case", "splice", "pad", "dot"]))
            at = draw(st.integers(0, max(0, len(token) - 1)))
            match how:
                case "change":
                    token = token[:at] + draw(st.sampled_from(alphabet)) + token[at + 1:]
                case "cut":
                    token = token[:at] + token[at + draw(st.integers(1, 4)):]
                case "add":
                    token = token[:at] + draw(st.text(alphabet, min_size=1, max_size=3)) + token[at:]
                case "case":
                    token = token[:at] + token[at:at + 1].swapcase() + token[at + 1:]
                case "splice":
                    parts, theirs = token.split("."), draw(st.sampled_from(tokens)).split(".")
                    i = draw(st.integers(0, min(len(parts), len(theirs)) - 1))
                    token = ".".join(parts[:i] + theirs[i:i + 1] + parts[i + 1:])
                case "pad":
                    token += "=" * draw(st.integers(1, 2))
                case "dot":
                    token = token[:at] + "." + token[at:]
        return token

    return genuine, st.one_of(made_over(), made_over(), made_over(), st.sampled_from(tokens))


LINK_EXAMPLES = {"development": 60, "production": 40}


@pytest.mark.timeout(300)
async def test_fuzz_unsubscribe_links_made_over_from_a_genuine_one(secured):
    """With no sign-in, the genuine link reads and turns off its kind; every token made over from it (or from
    another member's or kind's) is refused 4xx in problem+json, in Russian, and appends nothing: no 5xx ever."""
    platform, actors = secured
    target = await new_guest(platform, actors["admin"].token)
    other = await new_guest(platform, actors["admin"].token)
    secret = platform.settings["notifications"].unsubscribe_secret.get_secret_value()
    genuine, tokens = _links(secret, target.member_id, other.member_id)
    loop = asyncio.get_running_loop()
    seen: Counter = Counter()
    turned_off: set[tuple[str, str]] = set()

    def probe() -> int:
        return asyncio.run_coroutine_threadsafe(settled_position(platform), loop).result(timeout=30)

    def run() -> None:
        session = requests.Session()

        @hypothesis.settings(max_examples=LINK_EXAMPLES[platform.env], deadline=None, derandomize=True,
                             database=None, phases=[Phase.explicit, Phase.generate],
                             suppress_health_check=list(HealthCheck))
        @hypothesis.given(token=tokens, method=st.sampled_from(["GET", "POST"]))
        def check(token: str, method: str) -> None:
            before = probe()
            r = session.request(method, f"{platform.base_url}/v1/notifications/unsubscribe", params={"token": token},
                                timeout=30)
            seen[r.status_code] += 1
            if token in genuine:  # genuine (made over into itself, or as it was)
                assert r.status_code == 200, (token, r.status_code, r.text)
                assert r.json()["kind"] == genuine[token][1]
                if method == "POST":
                    turned_off.add(genuine[token])
                    assert r.json()["channel"] == "off"
                else:
                    assert probe() == before, "reading what a link turns off appended to the log"
                return
            assert 400 <= r.status_code < 500, (token, r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/problem+json"), r.headers
            body = r.json()
            assert body["code"] in ("unsubscribe_link_invalid", "invalid_fields"), (token, body)
            assert any("а" <= ch <= "я" for ch in body["title"].lower()), body
            assert probe() == before, f"a made-over token {token!r} ({method}) appended to the log"

        check()

    await asyncio.to_thread(run)
    print(f"{platform.env}: unsubscribe tokens answered {dict(sorted(seen.items()))}, turned off {sorted(turned_off)}")
    assert seen[200] and sum(n for s, n in seen.items() if s != 200)
    # what went off is what a genuine link turned off, and nothing else of either member
    for who in (target, other):
        async with platform.client(who.token) as c:
            kinds = {k["kind"]: k["channel"] for k in (await c.get("/v1/me/notification-preferences")).json()["kinds"]}
        assert {(who.member_id, k) for k, ch in kinds.items() if ch == "off"} == {
            t for t in turned_off if t[0] == who.member_id}, (who.member_id, kinds, turned_off)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("role", ["guest", "member"])
async def test_fuzz_marking_read_with_real_ids(secured, role):
    """Marks naming any mix of the caller's own notifications (read or not, twice), another's and ids that are
    none: accepted exactly when every id named is the caller's, then those unread are marked and nothing else;
    otherwise 404 and nothing appended."""
    platform, actors = secured
    me, other = actors[role], actors["moderator"]
    for _ in range(3):
        await tell_every_role(platform, actors)

    async def ids_of(token: str) -> list[str]:
        async with platform.client(token) as c:
            return [i["notification_id"] for i in (await c.get("/v1/notifications", params={"limit": 200})).json()[
                "items"]][:6]

    own, theirs = await ids_of(me.token), await ids_of(other.token)
    assert own and theirs
    loop = asyncio.get_running_loop()
    seen: Counter = Counter()

    def sync(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)

    async def state() -> tuple[int, list[str], list[str]]:
        at = await settled_position(platform)
        async with platform.client(me.token) as c:
            mine = (await c.get("/v1/notifications", params={"unread_only": "true", "limit": 200})).json()
        async with platform.client(other.token) as c:
            others = (await c.get("/v1/notifications", params={"unread_only": "true", "limit": 200})).json()
        return (at, [i["notification_id"] for i in mine["items"]],
                [i["notification_id"] for i in others["items"]])

    def run() -> None:
        session = requests.Session()
        ids = st.one_of(st.sampled_from(own), st.sampled_from(theirs), st.uuids().map(str))

        @hypothesis.settings(max_examples=40, deadline=None, derandomize=True, database=None,
                             phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @hypothesis.given(named=st.lists(ids, min_size=1, max_size=5))
        def check(named: list[str]) -> None:
            before, unread_before, others_before = sync(state())
            r = session.post(f"{platform.base_url}/v1/notifications/read", json={"notification_ids": named},
                             headers=me.headers, timeout=30)
            seen[r.status_code] += 1
            after, unread_after, others_after = sync(state())
            assert others_after == others_before, "another's notifications changed"
            if set(named) <= set(own):
                assert r.status_code == 200, (named, r.status_code, r.text)
                marked = [n for n in dict.fromkeys(named) if n in unread_before]
                assert r.json()["marked"] == len(marked), (named, r.json())
                assert unread_after == [n for n in unread_before if n not in named]
                assert after == before + len(marked)
            else:
                assert r.status_code == 404 and r.json()["code"] == "notification_not_found", (named, r.text)
                assert (after, unread_after) == (before, unread_before), f"a refused mark {named} changed something"

        check()

    await asyncio.to_thread(run)
    print(f"{platform.env} {role}: marks answered {dict(sorted(seen.items()))}")
    assert seen[200] and seen[404]
