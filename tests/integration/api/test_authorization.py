"""Who may do what, through HTTP: every role against every goal action and admin resource.

One world (two clinics with a person in every role) is built once for this module, because
building it costs dozens of requests; each case then sets up only what it needs (a fresh goal,
a fresh token, a fresh care-team pair) and never changes what other cases rely on. A refused
request must write nothing at all, and every refusal is an RFC 9457 problem.

Every write is tried each way it can reach the database (services/api/goals/actions.py): with an
`Idempotency-Key`, in a transaction of its own; without one, sharing its round trips with other
requests'; and, for a check-in on a goal this process has folded by a caller it has seen, in one
statement with its read. The goal store's calls show which way each allowed write went.
"""

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db.pool import clone_database, drop_database, url_for_database
from services.api.app import create_app
from tests.conftest import RUN_PREFIX, service_url
from tests.integration.api.access_matrix import (
    ERROR_CODES,
    NOTHING_WRITTEN,
    ONE_TRIP,
    OWN_CONNECTION,
    REQUEST_CONNECTION,
    SHARED_ROUND_TRIP,
    Footprint,
    StoreCalls,
    assert_problem,
    footprint,
    parse_table,
    record_store_calls,
)
from tests.integration.api.support import project_everything
from tests.integration.api.world import (
    Clinic,
    Person,
    app_settings,
    build_clinic,
    goal_body,
    invited_token,
)

Api = AsyncTestClient[Litestar]
Json = dict[str, Any]

# Expected statuses for a goal set by the therapist for `client`. `shared_supporter` follows the
# goal, `unshared_supporter` is the same person before the client shares it with them. `write`
# stands for every change of the goal's course: adjust, check in, achieve, miss, pause, resume,
# cancel, correct. `share` and `unshare` add or remove a second supporter of the same clinic.
GOAL_TABLE = parse_table(
    """
    caller                        set  read  history  client_goals  my_goals  write  share  unshare
    anonymous                     401  401   401      401           401       401    401    401
    admin                         404  404   404      404           403       404    404    404
    therapist                     201  200   200      200           200       200    403    200
    other_therapist               404  404   404      404           200       404    404    404
    client                        201  200   200      200           200       200    200    200
    other_client                  404  404   404      404           200       404    404    404
    shared_supporter              404  200   403      404           200       403    403    403
    unshared_supporter            404  404   404      404           200       404    404    404
    auditor                       403  403   200      403           403       403    403    403
    integration                   403  200   403      200           403       403    403    403
    other_clinic.admin            404  404   404      404           403       404    404    404
    other_clinic.therapist        404  404   404      404           200       404    404    404
    other_clinic.other_therapist  404  404   404      404           200       404    404    404
    other_clinic.client           404  404   404      404           200       404    404    404
    other_clinic.other_client     404  404   404      404           200       404    404    404
    other_clinic.supporter        404  404   404      404           200       404    404    404
    other_clinic.auditor          404  404   404      404           403       404    404    404
    other_clinic.integration      404  404   404      404           403       404    404    404
    """
)

# Who finds the case's goal among their own goals (/v1/me/goals).
LISTS_THE_GOAL_AS_MINE = {"client", "therapist", "shared_supporter"}
LISTS = {"client_goals", "my_goals"}

# Admin resources, aimed at `client` of the admin's clinic (or a token or care-team pair made
# for the case). Admin-only actions (new_user, assign, unassign) check the role before
# looking anything up, so a non-admin gets the same 403 whatever the target and wherever it
# lives: nothing about other clinics leaks. Anything about one user answers 404 to whoever may
# not manage that user, so a user's existence does not leak. Nobody gets a token of another
# person's: an admin invites them instead.
ADMIN_TABLE = parse_table(
    """
    caller                        new_user  read_user  new_token  revoke_token  assign  unassign
    anonymous                     401       401        401        401           401     401
    admin                         201       200        403        204           200     204
    therapist                     403       404        404        404           403     403
    other_therapist               403       404        404        404           403     403
    client                        403       200        201        204           403     403
    other_client                  403       404        404        404           403     403
    supporter                     403       404        404        404           403     403
    auditor                       403       404        404        404           403     403
    integration                   403       404        404        404           403     403
    other_clinic.admin            201       404        404        404           404     404
    other_clinic.therapist        403       404        404        404           403     403
    other_clinic.other_therapist  403       404        404        404           403     403
    other_clinic.client           403       404        404        404           403     403
    other_clinic.other_client     403       404        404        404           403     403
    other_clinic.supporter        403       404        404        404           403     403
    other_clinic.auditor          403       404        404        404           403     403
    other_clinic.integration      403       404        404        404           403     403
    """
)

# What a supporter sees of a goal in a list: no more than on its own.
SHARED_SUMMARY_FIELDS = {
    "view",
    "goal_id",
    "version",
    "statement",
    "status",
    "achievement_status",
    "measure",
    "this_period",
    "streak",
    "last_check_in_at",
    "due_date",
    "days_to_due",
}

# What a supporter may see of a goal: never reflections, notes or whose goal it is.
SHARED_VIEW_FIELDS = {
    "view",
    "goal_id",
    "version",
    "statement",
    "measure",
    "due_date",
    "status",
    "progress_total",
    "check_in_count",
    "last_check_in_at",
}

GOAL_EVENT = Footprint(events=1, stream_versions=1)

# The ways a request is sent: every write takes an Idempotency-Key, and only a check-in goes in
# one trip with its read.
KEYED, UNKEYED, ONE_TRIP_CHECK_IN = "keyed", "unkeyed", "one_trip"


def ways_to_send(method: str, action: str = "") -> list[str]:
    if method == "GET":
        return [UNKEYED]
    return [KEYED, UNKEYED, ONE_TRIP_CHECK_IN] if action == "check_in" else [KEYED, UNKEYED]


def written_when(written: Footprint, way: str) -> Footprint:
    """What an allowed request writes, sent this way: a key is kept for retries."""
    if way != KEYED or written == NOTHING_WRITTEN:
        return written
    return replace(written, idempotency_keys=written.idempotency_keys + 1)


@dataclass(frozen=True)
class World:
    clinic: Clinic
    other_clinic: Clinic
    clinic_id: UUID
    other_clinic_id: UUID
    partner_id: UUID
    """A second supporter in `clinic`: the one the cases share goals with, or stop sharing with."""

    def person(self, caller: str) -> Person | None:
        """Who a caller's name in the tables stands for; None for an anonymous caller."""
        if caller == "anonymous":
            return None
        clinic_name, _, role = caller.rpartition(".")
        clinic = self.other_clinic if clinic_name == "other_clinic" else self.clinic
        if role in {"shared_supporter", "unshared_supporter"}:
            role = "supporter"
        person: Person = getattr(clinic, role)
        return person

    def clinic_id_of(self, caller: str) -> UUID:
        return self.other_clinic_id if caller.startswith("other_clinic.") else self.clinic_id


@pytest.fixture(scope="module")
async def world_database(postgres_url: str, migrated_template: str) -> AsyncIterator[str]:
    """The module's database, as the service connects to it."""
    url = url_for_database(postgres_url, f"{RUN_PREFIX}_access_{uuid.uuid4().hex[:8]}")
    await clone_database(url, migrated_template)
    yield service_url(url)
    await drop_database(url)


@pytest.fixture(scope="module")
async def world_pool(world_database: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(world_database, min_size=1, max_size=4) as opened:
        yield opened


@pytest.fixture(scope="module")
async def world_api(world_database: str) -> AsyncIterator[Api]:
    async with AsyncTestClient(create_app(app_settings(world_database))) as client:
        yield client


async def _clinic_id(api: Api, clinic: Clinic) -> UUID:
    admin = await api.get(f"/v1/users/{clinic.admin.id}", headers=clinic.admin.headers)
    assert admin.status_code == 200, admin.text
    return UUID(admin.json()["clinic_id"])


async def _new_user(api: Api, admin: Person, role: str) -> UUID:
    created = await api.post("/v1/users", json=_new_user_body(role), headers=admin.headers)
    assert created.status_code == 201, created.text
    return UUID(created.json()["id"])


def _new_user_body(role: str = "client") -> Json:
    return {
        "role": role,
        "display_name": f"New {role}",
        "email": f"{role}.{uuid.uuid4().hex[:12]}@example.org",
        "time_zone": "Europe/Berlin",
    }


@pytest.fixture(scope="module")
async def world(world_api: Api, world_pool: asyncpg.Pool) -> World:
    clinic = await build_clinic(world_api, world_pool, "north")
    other_clinic = await build_clinic(world_api, world_pool, "south")
    return World(
        clinic=clinic,
        other_clinic=other_clinic,
        clinic_id=await _clinic_id(world_api, clinic),
        other_clinic_id=await _clinic_id(world_api, other_clinic),
        partner_id=await _new_user(world_api, clinic.admin, "supporter"),
    )


async def send(
    api: Api, method: str, path: str, person: Person | None, body: Json | None, way: str
) -> Response:
    headers = {} if person is None else dict(person.headers)
    if way == KEYED:
        # A key makes the write claim an idempotency record before checking access, so a
        # refusal must also roll that claim back.
        headers["Idempotency-Key"] = str(uuid.uuid4())
    return await api.request(method, path, json=body, headers=headers)


def assert_refused(response: Response, status: int, forbidden_code: str = "forbidden") -> None:
    code = forbidden_code if status == 403 else ERROR_CODES[status]
    assert_problem(response, status, code)


# --- goals -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalRequest:
    column: str
    """The column of GOAL_TABLE that says who may send it."""
    method: str
    path: str
    """With {goal_id}, {client_id} and {partner_id} to fill in."""
    body: Callable[[World], Json] | None = None
    written: Footprint = NOTHING_WRITTEN
    """What it writes when allowed, sent without a key."""
    shares_round_trips: bool = False
    """Whether, sent without a key, it shares its round trips (else it takes the request's
    connection)."""
    goal_after: Json | None = None
    """Fields of the goal as the allowed write leaves it."""
    starts_paused: bool = False
    partner_follows: bool = False
    forbidden_code: str = "forbidden"


def _fixed(body: Json) -> Callable[[World], Json]:
    return lambda _: body


GOAL_REQUESTS = {
    "set": GoalRequest(
        "set",
        "POST",
        "/v1/goals",
        body=lambda world: goal_body(client_id=str(world.clinic.client.id)),
        written=GOAL_EVENT,
    ),
    "read": GoalRequest("read", "GET", "/v1/goals/{goal_id}"),
    "history": GoalRequest("history", "GET", "/v1/goals/{goal_id}/history"),
    "client_goals": GoalRequest("client_goals", "GET", "/v1/clients/{client_id}/goals"),
    "my_goals": GoalRequest(
        "my_goals", "GET", "/v1/me/goals", forbidden_code="no_goals_of_your_own"
    ),
    "adjust": GoalRequest(
        "write",
        "POST",
        "/v1/goals/{goal_id}/adjustments",
        body=_fixed({"changes": {"priority": "low"}, "reason": "Work got busy"}),
        written=GOAL_EVENT,
        shares_round_trips=True,
        goal_after={"priority": "low", "status": "active"},
    ),
    "check_in": GoalRequest(
        "write",
        "POST",
        "/v1/goals/{goal_id}/check-ins",
        body=_fixed({"amount": 1, "note": "walked"}),
        written=GOAL_EVENT,
        shares_round_trips=True,
        goal_after={"progress_total": 1, "status": "active"},
    ),
    "achieve": GoalRequest(
        "write",
        "POST",
        "/v1/goals/{goal_id}/achievement",
        body=_fixed({}),
        written=GOAL_EVENT,
        shares_round_trips=True,
        goal_after={"status": "achieved"},
    ),
    "miss": GoalRequest(
        "write",
        "POST",
        "/v1/goals/{goal_id}/miss",
        body=_fixed({"cause": "obstacles", "reflection": "Too many late shifts"}),
        written=GOAL_EVENT,
        shares_round_trips=True,
        goal_after={"status": "missed"},
    ),
    "pause": GoalRequest(
        "write",
        "POST",
        "/v1/goals/{goal_id}/pause",
        body=_fixed({"reason": "Away for a week"}),
        written=GOAL_EVENT,
        shares_round_trips=True,
        goal_after={"status": "paused"},
    ),
    "resume": GoalRequest(
        "write",
        "POST",
        "/v1/goals/{goal_id}/resume",
        written=GOAL_EVENT,
        shares_round_trips=True,
        goal_after={"status": "active"},
        starts_paused=True,
    ),
    "cancel": GoalRequest(
        "write",
        "POST",
        "/v1/goals/{goal_id}/cancel",
        body=_fixed({"reason": "No longer relevant"}),
        written=GOAL_EVENT,
        shares_round_trips=True,
        goal_after={"status": "cancelled"},
    ),
    "correct": GoalRequest(
        "write",
        "POST",
        "/v1/goals/{goal_id}/corrections",
        body=_fixed({"scope": "goal", "reason": "Set for the wrong client"}),
        written=GOAL_EVENT,
        shares_round_trips=True,
        goal_after={"status": "entered_in_error"},
    ),
    "share": GoalRequest(
        "share",
        "POST",
        "/v1/goals/{goal_id}/supporters/{partner_id}",
        written=GOAL_EVENT,
    ),
    "unshare": GoalRequest(
        "unshare",
        "DELETE",
        "/v1/goals/{goal_id}/supporters/{partner_id}",
        written=GOAL_EVENT,
        partner_follows=True,
    ),
}


def _expect_ok(response: Response) -> Json:
    assert response.status_code in {200, 201}, response.text
    body: Json = response.json()
    return body


async def set_goal_for_case(
    api: Api,
    world: World,
    *,
    paused: bool = False,
    shared_with: tuple[UUID, ...] = (),
) -> tuple[UUID, int]:
    """A fresh goal of `client`, set by their therapist: its id and version."""
    therapist, client = world.clinic.therapist.headers, world.clinic.client.headers
    created = _expect_ok(
        await api.post(
            "/v1/goals", json=goal_body(client_id=str(world.clinic.client.id)), headers=therapist
        )
    )
    goal_id, version = UUID(created["goal_id"]), created["version"]
    if paused:
        paused_reply = await api.post(
            f"/v1/goals/{goal_id}/pause", json={"reason": "Away"}, headers=therapist
        )
        version = _expect_ok(paused_reply)["version"]
    for supporter_id in shared_with:
        shared = await api.post(f"/v1/goals/{goal_id}/supporters/{supporter_id}", headers=client)
        version = _expect_ok(shared)["version"]
    return goal_id, version


def assert_goal_seen_by(caller: str, goal: Json, world: World, goal_id: UUID, version: int) -> None:
    assert goal["goal_id"] == str(goal_id), goal
    assert goal["version"] == version, goal
    if caller == "shared_supporter":
        assert goal["view"] == "shared", goal
        assert set(goal) == SHARED_VIEW_FIELDS, goal
    else:
        assert goal["view"] == "full", goal
        assert goal["client_id"] == str(world.clinic.client.id), goal


def assert_summary_seen_by(
    caller: str, goal: Json, world: World, goal_id: UUID, version: int
) -> None:
    assert goal["goal_id"] == str(goal_id), goal
    assert goal["version"] == version, goal
    if caller == "shared_supporter":
        assert goal["view"] == "shared_summary", goal
        assert set(goal) == SHARED_SUMMARY_FIELDS, goal
    else:
        assert goal["view"] == "summary", goal
        assert goal["client_id"] == str(world.clinic.client.id), goal


def assert_goal_reply(
    request: GoalRequest, caller: str, body: Any, world: World, goal_id: UUID, version: int
) -> None:
    """What an allowed request answers about the case's goal (at `version` before it)."""
    match request.column:
        case "set":
            assert body["version"] == 1, body
            assert body["goal_id"] != str(goal_id), body
            assert body["goal"]["client_id"] == str(world.clinic.client.id), body
        case "read":
            assert_goal_seen_by(caller, body, world, goal_id, version)
        case "history":
            assert [entry["version"] for entry in body] == list(range(1, version + 1)), body
            assert body[0]["type"] == "goal_set", body
        case "client_goals" | "my_goals":
            listed = {goal["goal_id"]: goal for goal in body["goals"]}
            if request.column == "client_goals" or caller in LISTS_THE_GOAL_AS_MINE:
                assert_summary_seen_by(caller, listed[str(goal_id)], world, goal_id, version)
            else:
                assert str(goal_id) not in listed
        case "write" | "share" | "unshare":
            assert body["goal_id"] == str(goal_id), body
            assert body["version"] == version + 1, body
            assert_goal_seen_by(caller, body["goal"], world, goal_id, version + 1)
            assert body["goal"].items() >= (request.goal_after or {}).items(), body
            # Only sharing leaves the second supporter following the goal.
            followed = str(world.partner_id) in body["goal"]["supporters"]
            assert followed is (request.column == "share"), body
        case _:
            raise AssertionError(f"no check for {request.column}")


def store_calls_when_allowed(request: GoalRequest, way: str) -> StoreCalls:
    if request.method == "GET" or not request.shares_round_trips:
        return REQUEST_CONNECTION
    if way == ONE_TRIP_CHECK_IN:
        return ONE_TRIP
    return OWN_CONNECTION if way == KEYED else SHARED_ROUND_TRIP


async def warm_for_one_trip(api: Api, world: World, goal_id: UUID, person: Person | None) -> None:
    """Makes the process fold the goal (the client reads it) and see the caller (they try to)."""
    for reader in (world.clinic.client, person):
        if reader is not None:
            read = await api.get(f"/v1/goals/{goal_id}", headers=reader.headers)
            assert read.status_code in {200, 403, 404}, read.text


GOAL_CASES = [
    pytest.param(action, caller, way, id=f"{action}-{caller}-{way}")
    for action, request in GOAL_REQUESTS.items()
    for caller in GOAL_TABLE
    for way in ways_to_send(request.method, action)
]


@pytest.mark.parametrize(("action", "caller", "way"), GOAL_CASES)
async def test_goal_access(
    world_api: Api,
    world_pool: asyncpg.Pool,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    caller: str,
    way: str,
) -> None:
    request = GOAL_REQUESTS[action]
    expected = GOAL_TABLE[caller][request.column]
    person = world.person(caller)
    shared_with = [world.partner_id] if request.partner_follows else []
    if caller == "shared_supporter":
        shared_with.append(world.clinic.supporter.id)
    goal_id, version = await set_goal_for_case(
        world_api, world, paused=request.starts_paused, shared_with=tuple(shared_with)
    )
    path = request.path.format(
        goal_id=goal_id, client_id=world.clinic.client.id, partner_id=world.partner_id
    )
    body = None if request.body is None else request.body(world)

    if request.column in LISTS:
        # Lists come from the workers' projection; bring it up to date as they would.
        await project_everything(world_pool)
    if way == ONE_TRIP_CHECK_IN:
        await warm_for_one_trip(world_api, world, goal_id, person)
    calls = record_store_calls(world_api.app.state.goal_writer.store, monkeypatch)
    before = await footprint(world_pool)
    response = await send(world_api, request.method, path, person, body, way)
    written = await footprint(world_pool) - before

    if expected >= 400:
        assert_refused(response, expected, request.forbidden_code)
        assert written == NOTHING_WRITTEN
        assert (calls.shared_appends, calls.one_trip_appends) == (0, 0), calls
        return
    assert response.status_code == expected, response.text
    assert written == written_when(request.written, way)
    assert calls == store_calls_when_allowed(request, way)
    assert_goal_reply(request, caller, response.json(), world, goal_id, version)


@pytest.mark.parametrize(
    ("caller", "expected"),
    [("shared_supporter", 200), ("unshared_supporter", 404), ("other_clinic.supporter", 404)],
)
async def test_a_supporter_may_stop_following_a_goal(
    world_api: Api, world_pool: asyncpg.Pool, world: World, caller: str, expected: int
) -> None:
    shared_with = (world.clinic.supporter.id,) if caller == "shared_supporter" else ()
    goal_id, _ = await set_goal_for_case(world_api, world, shared_with=shared_with)
    private_note = "a private check-in note"
    checked_in = await world_api.post(
        f"/v1/goals/{goal_id}/check-ins",
        json={"note": private_note},
        headers=world.clinic.client.headers,
    )
    version = _expect_ok(checked_in)["version"]
    person = world.person(caller)
    assert person is not None

    before = await footprint(world_pool)
    left = await world_api.delete(
        f"/v1/goals/{goal_id}/supporters/{person.id}", headers=person.headers
    )
    written = await footprint(world_pool) - before

    if expected >= 400:
        assert_refused(left, expected)
        assert written == NOTHING_WRITTEN
        return
    assert left.status_code == expected, left.text
    assert written == GOAL_EVENT
    assert left.json()["version"] == version + 1
    # Leaving must not show the supporter more of the goal than they saw while following it.
    assert private_note not in left.text
    assert str(world.clinic.client.id) not in left.text
    assert left.json()["goal"]["view"] == "shared", left.json()
    assert set(left.json()["goal"]) == SHARED_VIEW_FIELDS, left.json()
    reread = await world_api.get(f"/v1/goals/{goal_id}", headers=person.headers)
    assert_refused(reread, 404)


async def test_a_supporter_sees_progress_but_no_notes_reflections_or_whose_goal_it_is(
    world_api: Api, world_pool: asyncpg.Pool, world: World
) -> None:
    supporter, client = world.clinic.supporter, world.clinic.client
    goal_id, _ = await set_goal_for_case(world_api, world, shared_with=(supporter.id,))
    note, reason, reflection = "a private note", "a private reason", "a private reflection"
    steps = [
        ("check-ins", {"amount": 1, "note": note}),
        ("adjustments", {"changes": {"priority": "low"}, "reason": reason}),
        ("miss", {"cause": "obstacles", "reflection": reflection}),
    ]
    for step, body in steps:
        _expect_ok(
            await world_api.post(f"/v1/goals/{goal_id}/{step}", json=body, headers=client.headers)
        )

    await project_everything(world_pool)
    read = await world_api.get(f"/v1/goals/{goal_id}", headers=supporter.headers)
    mine = await world_api.get("/v1/me/goals", headers=supporter.headers)

    assert read.status_code == 200, read.text
    assert mine.status_code == 200, mine.text
    goal = read.json()
    assert set(goal) == SHARED_VIEW_FIELDS
    assert goal["view"] == "shared"
    assert (goal["progress_total"], goal["check_in_count"]) == (1, 1)
    listed = next(item for item in mine.json()["goals"] if item["goal_id"] == str(goal_id))
    assert set(listed) == SHARED_SUMMARY_FIELDS
    assert listed["view"] == "shared_summary"
    for seen in (goal, listed):
        assert seen["statement"] == goal_body()["statement"]
        assert seen["status"] == "missed"
        assert seen["version"] == 5
    for text in (note, reason, reflection, str(client.id)):
        assert text not in read.text
        assert text not in mine.text


async def test_a_goal_is_hidden_again_once_the_client_stops_sharing_it(
    world_api: Api, world_pool: asyncpg.Pool, world: World
) -> None:
    supporter, client = world.clinic.supporter, world.clinic.client
    goal_id, _ = await set_goal_for_case(world_api, world, shared_with=(supporter.id,))
    assert (await world_api.get(f"/v1/goals/{goal_id}", headers=supporter.headers)).is_success

    _expect_ok(
        await world_api.delete(
            f"/v1/goals/{goal_id}/supporters/{supporter.id}", headers=client.headers
        )
    )

    assert_refused(await world_api.get(f"/v1/goals/{goal_id}", headers=supporter.headers), 404)
    await project_everything(world_pool)
    mine = await world_api.get("/v1/me/goals", headers=supporter.headers)
    assert mine.status_code == 200, mine.text
    assert str(goal_id) not in {goal["goal_id"] for goal in mine.json()["goals"]}


# --- admin resources ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminRequest:
    method: str
    path: str
    """With {client_id}, {token_id}, {pair_client_id} and {pair_therapist_id} to fill in."""
    written: Footprint
    """What it writes when allowed, sent without a key."""
    body: Callable[[], Json] | None = None
    target: str = "client"
    """What the case makes for it: "client" (nothing), "token", "pair" or "assigned_pair"."""


ADMIN_REQUESTS = {
    "new_user": AdminRequest(
        "POST",
        "/v1/users",
        Footprint(events=1, stream_versions=1, users=1),
        body=_new_user_body,
    ),
    "read_user": AdminRequest("GET", "/v1/users/{client_id}", NOTHING_WRITTEN),
    "new_token": AdminRequest(
        "POST",
        "/v1/users/{client_id}/tokens",
        Footprint(events=1, stream_versions=1, tokens=1, live_tokens=1),
        body=dict,
    ),
    "revoke_token": AdminRequest(
        "DELETE",
        "/v1/tokens/{token_id}",
        Footprint(events=1, stream_versions=1, live_tokens=-1),
        target="token",
    ),
    "assign": AdminRequest(
        "PUT",
        "/v1/clients/{pair_client_id}/therapists/{pair_therapist_id}",
        Footprint(events=1, stream_versions=1, care_team=1),
        target="pair",
    ),
    "unassign": AdminRequest(
        "DELETE",
        "/v1/clients/{pair_client_id}/therapists/{pair_therapist_id}",
        Footprint(events=1, stream_versions=1, care_team=-1),
        target="assigned_pair",
    ),
}


@dataclass(frozen=True)
class AdminTargets:
    client_id: UUID
    token_id: UUID | None = None
    token: str | None = None
    pair_client_id: UUID | None = None
    pair_therapist_id: UUID | None = None


async def admin_targets(api: Api, world: World, target: str) -> AdminTargets:
    """What the case acts on: fresh, so that an action wrongly allowed spoils no other case."""
    admin, client_id = world.clinic.admin, world.clinic.client.id
    if target == "token":
        client = world.clinic.client
        issued = _expect_ok(
            await api.post(f"/v1/users/{client_id}/tokens", json={}, headers=client.headers)
        )
        return AdminTargets(client_id, token_id=UUID(issued["token_id"]), token=issued["token"])
    if target in {"pair", "assigned_pair"}:
        pair_client = await _new_user(api, admin, "client")
        pair_therapist = await _new_user(api, admin, "therapist")
        if target == "assigned_pair":
            _expect_ok(
                await api.put(
                    f"/v1/clients/{pair_client}/therapists/{pair_therapist}",
                    headers=admin.headers,
                )
            )
        return AdminTargets(client_id, pair_client_id=pair_client, pair_therapist_id=pair_therapist)
    return AdminTargets(client_id)


async def token_works(api: Api, world: World, token: str) -> bool:
    seen = await api.get(
        f"/v1/users/{world.clinic.client.id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert seen.status_code in {200, 401}, seen.text
    return seen.status_code == 200


async def assert_admin_reply(
    api: Api, action: str, caller: str, response: Response, world: World, targets: AdminTargets
) -> None:
    match action:
        case "new_user":
            assert response.json()["clinic_id"] == str(world.clinic_id_of(caller))
            assert response.json()["role"] == "client"
        case "read_user":
            assert response.json()["id"] == str(targets.client_id)
            assert response.json()["clinic_id"] == str(world.clinic_id)
        case "new_token":
            issued = response.json()
            assert issued["user_id"] == str(targets.client_id)
            assert await token_works(api, world, issued["token"])
        case "revoke_token":
            assert targets.token is not None
            assert not await token_works(api, world, targets.token)
        case "assign":
            assert response.json() == {
                "client_id": str(targets.pair_client_id),
                "therapist_id": str(targets.pair_therapist_id),
            }
        case "unassign":
            assert response.content == b""
        case _:
            raise AssertionError(f"no check for {action}")


ADMIN_CASES = [
    pytest.param(action, caller, way, id=f"{action}-{caller}-{way}")
    for action, request in ADMIN_REQUESTS.items()
    for caller in ADMIN_TABLE
    for way in ways_to_send(request.method)
]


@pytest.mark.parametrize(("action", "caller", "way"), ADMIN_CASES)
async def test_admin_resource_access(
    world_api: Api, world_pool: asyncpg.Pool, world: World, action: str, caller: str, way: str
) -> None:
    request = ADMIN_REQUESTS[action]
    expected = ADMIN_TABLE[caller][action]
    targets = await admin_targets(world_api, world, request.target)
    path = request.path.format(**vars(targets))
    body = None if request.body is None else request.body()

    before = await footprint(world_pool)
    response = await send(world_api, request.method, path, world.person(caller), body, way)
    written = await footprint(world_pool) - before

    if expected >= 400:
        assert_refused(response, expected)
        assert written == NOTHING_WRITTEN
        if targets.token is not None:
            assert await token_works(world_api, world, targets.token)
        return
    assert response.status_code == expected, response.text
    assert written == written_when(request.written, way)
    await assert_admin_reply(world_api, action, caller, response, world, targets)


async def test_a_therapist_reaches_a_clients_goals_only_while_on_their_care_team(
    world_api: Api, world_pool: asyncpg.Pool, world: World
) -> None:
    admin = world.clinic.admin
    client_id = await _new_user(world_api, admin, "client")
    therapist_id = await _new_user(world_api, admin, "therapist")
    therapist = {"Authorization": f"Bearer {await invited_token(world_api, admin, therapist_id)}"}
    care_team = f"/v1/clients/{client_id}/therapists/{therapist_id}"
    new_goal = goal_body(client_id=str(client_id))

    assert_refused(await world_api.post("/v1/goals", json=new_goal, headers=therapist), 404)

    assert (await world_api.put(care_team, headers=admin.headers)).status_code == 200
    created = _expect_ok(await world_api.post("/v1/goals", json=new_goal, headers=therapist))
    goal = f"/v1/goals/{created['goal_id']}"
    assert (await world_api.get(goal, headers=therapist)).status_code == 200

    assert (await world_api.delete(care_team, headers=admin.headers)).status_code == 204
    assert_refused(await world_api.get(goal, headers=therapist), 404)
    paused = await world_api.post(f"{goal}/pause", json={"reason": "Away"}, headers=therapist)
    assert_refused(paused, 404)
    await project_everything(world_pool)
    mine = await world_api.get("/v1/me/goals", headers=therapist)
    assert mine.status_code == 200, mine.text
    assert mine.json()["goals"] == []


# --- the directory, credentials of others, clinic settings -------------------------------------

# Aimed at a fresh client of `clinic` (the target) with a token they redeemed themself. Admin-only
# actions (list_users, invite, deactivate, settings, change_settings) check the role first, so a
# non-admin gets 403 whatever the target; anything about the target answers 404 to whoever may
# not manage them. An admin of another clinic lists and sets only their own clinic.
DIRECTORY_TABLE = parse_table(
    """
    caller                        list_users  list_tokens  revoke_all  invite  edit_user  deactivate  settings  change_settings
    anonymous                     401         401          401         401     401        401         401       401
    admin                         200         200          200         201     200        200         200       200
    therapist                     403         404          404         403     404        403         403       403
    other_therapist               403         404          404         403     404        403         403       403
    client                        403         404          404         403     404        403         403       403
    other_client                  403         404          404         403     404        403         403       403
    supporter                     403         404          404         403     404        403         403       403
    auditor                       403         404          404         403     404        403         403       403
    integration                   403         404          404         403     404        403         403       403
    other_clinic.admin            200         404          404         404     404        404         200       200
    other_clinic.therapist        403         404          404         403     404        403         403       403
    other_clinic.other_therapist  403         404          404         403     404        403         403       403
    other_clinic.client           403         404          404         403     404        403         403       403
    other_clinic.other_client     403         404          404         403     404        403         403       403
    other_clinic.supporter        403         404          404         403     404        403         403       403
    other_clinic.auditor          403         404          404         403     404        403         403       403
    other_clinic.integration      403         404          404         403     404        403         403       403
    """  # noqa: E501 - a table reads best on one line per caller
)

# Settings that differ from a clinic's defaults, so that the first change writes an event, and
# that no other case notices (a higher goal limit only delays a warning).
CHANGED_SETTINGS = {
    "active_goal_limit": 7,
    "default_time_zone": "Europe/Berlin",
    "max_token_lifetime_days": 120,
}


@dataclass(frozen=True)
class DirectoryRequest:
    method: str
    path: str
    """With {target_id} to fill in."""
    written: Footprint
    """What it writes when allowed, without an Idempotency-Key."""
    body: Json | None = None


DIRECTORY_REQUESTS = {
    "list_users": DirectoryRequest("GET", "/v1/users?search={target_email}", NOTHING_WRITTEN),
    "list_tokens": DirectoryRequest("GET", "/v1/users/{target_id}/tokens", NOTHING_WRITTEN),
    "revoke_all": DirectoryRequest(
        "DELETE",
        "/v1/users/{target_id}/tokens",
        Footprint(events=1, stream_versions=1, live_tokens=-1),
    ),
    "invite": DirectoryRequest(
        "POST",
        "/v1/users/{target_id}/invitations",
        Footprint(events=1, stream_versions=1, invitations=1),
    ),
    "edit_user": DirectoryRequest(
        "PATCH",
        "/v1/users/{target_id}",
        Footprint(events=1, stream_versions=1),
        body={"display_name": "Renamed"},
    ),
    "deactivate": DirectoryRequest(
        "POST",
        "/v1/users/{target_id}/deactivation",
        Footprint(events=2, stream_versions=2, live_tokens=-1),
    ),
    "settings": DirectoryRequest("GET", "/v1/clinic/settings", NOTHING_WRITTEN),
    "change_settings": DirectoryRequest(
        "PUT", "/v1/clinic/settings", Footprint(events=1, stream_versions=1), CHANGED_SETTINGS
    ),
}


@dataclass(frozen=True)
class DirectoryTarget:
    id: UUID
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def directory_target(api: Api, world: World) -> DirectoryTarget:
    admin = world.clinic.admin
    body = _new_user_body("client")
    created = _expect_ok(await api.post("/v1/users", json=body, headers=admin.headers))
    target_id = UUID(created["id"])
    return DirectoryTarget(target_id, body["email"], await invited_token(api, admin, target_id))


async def target_works(api: Api, target: DirectoryTarget) -> bool:
    seen = await api.get(f"/v1/users/{target.id}", headers=target.headers)
    assert seen.status_code in {200, 401}, seen.text
    return seen.status_code == 200


async def assert_directory_reply(
    api: Api, action: str, caller: str, response: Response, world: World, target: DirectoryTarget
) -> None:
    body: Any = response.json() if response.content else None
    match action:
        case "list_users":
            listed = [user["id"] for user in body["users"]]
            assert listed == ([] if caller.startswith("other_clinic.") else [str(target.id)])
        case "list_tokens":
            assert [token["user_id"] for token in body["tokens"]] == [str(target.id)]
            assert target.token not in response.text
        case "revoke_all" | "deactivate":
            assert not await target_works(api, target)
        case "invite":
            assert body["user_id"] == str(target.id)
            assert body["code"]
        case "edit_user":
            assert body["display_name"] == "Renamed"
        case "settings":
            assert set(body) == set(CHANGED_SETTINGS)
        case "change_settings":
            assert body == CHANGED_SETTINGS
            person = world.person(caller)
            assert person is not None
            settings = await api.get("/v1/clinic/settings", headers=person.headers)
            assert settings.json() == CHANGED_SETTINGS
        case _:
            raise AssertionError(f"no check for {action}")


DIRECTORY_CASES = [
    pytest.param(action, caller, way, id=f"{action}-{caller}-{way}")
    for action, request in DIRECTORY_REQUESTS.items()
    for caller in DIRECTORY_TABLE
    for way in ways_to_send(request.method)
]


@pytest.mark.parametrize(("action", "caller", "way"), DIRECTORY_CASES)
async def test_directory_and_credential_access(
    world_api: Api, world_pool: asyncpg.Pool, world: World, action: str, caller: str, way: str
) -> None:
    request = DIRECTORY_REQUESTS[action]
    expected = DIRECTORY_TABLE[caller][action]
    target = await directory_target(world_api, world)
    path = request.path.format(target_id=target.id, target_email=target.email)
    if action == "change_settings":
        # Back to the defaults, so that each allowed case writes its one event.
        await world_pool.execute(
            "UPDATE clinics SET active_goal_limit = 5, default_time_zone = 'UTC', "
            "max_token_lifetime_days = 90"
        )

    before = await footprint(world_pool)
    response = await send(world_api, request.method, path, world.person(caller), request.body, way)
    written = await footprint(world_pool) - before

    if expected >= 400:
        assert_refused(response, expected)
        assert written == NOTHING_WRITTEN
        assert await target_works(world_api, target)
        return
    assert response.status_code == expected, response.text
    assert written == written_when(request.written, way)
    await assert_directory_reply(world_api, action, caller, response, world, target)


async def test_an_invitation_is_redeemed_without_credentials_and_only_by_its_code(
    world_api: Api, world: World
) -> None:
    target = await directory_target(world_api, world)
    invited = _expect_ok(
        await world_api.post(
            f"/v1/users/{target.id}/invitations", headers=world.clinic.admin.headers
        )
    )
    other_invited = _expect_ok(
        await world_api.post(
            f"/v1/users/{world.other_clinic.client.id}/invitations",
            headers=world.other_clinic.admin.headers,
        )
    )

    # A credential of another person, or of another clinic, is no way to redeem it.
    for person in (world.clinic.admin, world.other_clinic.admin):
        with_token = await world_api.post(
            "/v1/invitations/redemption",
            json={"code": invited["code"][:-1]},
            headers=person.headers,
        )
        assert_problem(with_token, 400, "invalid_invitation")
    redeemed = _expect_ok(
        await world_api.post("/v1/invitations/redemption", json={"code": invited["code"]})
    )
    assert redeemed["user_id"] == str(target.id)
    theirs = _expect_ok(
        await world_api.post("/v1/invitations/redemption", json={"code": other_invited["code"]})
    )
    assert theirs["user_id"] == str(world.other_clinic.client.id)
    crossed = await world_api.get(
        f"/v1/users/{target.id}", headers={"Authorization": f"Bearer {theirs['token']}"}
    )
    assert_refused(crossed, 404)
