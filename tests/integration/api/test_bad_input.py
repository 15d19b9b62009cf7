"""Every kind of bad input answers problem details with a stable code, names the offending
field of the request body, and writes nothing."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import assert_problem, event_count, set_goal
from tests.integration.api.world import Clinic, goal_body


# The cases refuse input and compare counts before and after, or write only to goals of their
# own: they share the module's database, app and clinic (tests/integration/api/conftest.py).
@pytest.fixture(scope="module")
def api(module_api: AsyncTestClient[Litestar]) -> AsyncTestClient[Litestar]:
    return module_api


@pytest.fixture(scope="module")
def clinic(module_clinic: Clinic) -> Clinic:
    return module_clinic


@pytest.fixture(scope="module")
def pool(module_pool: asyncpg.Pool) -> asyncpg.Pool:
    return module_pool


@dataclass(frozen=True)
class BadGoal:
    """A body for POST /v1/goals, and what the API must answer to it."""

    body: dict[str, Any]
    status: int
    code: str
    field: str


def _without(name: str) -> dict[str, Any]:
    body = goal_body()
    del body[name]
    return body


def _measure(**overrides: Any) -> dict[str, Any]:
    return {"kind": "count", "target": 3, "unit": "walks", "cadence": "per_week", **overrides}


_TODAY = datetime.now(UTC).date()

BAD_GOALS = {
    "wrong type": BadGoal(goal_body(statement=5), 422, "invalid_input", "statement"),
    "wrong type, nested": BadGoal(
        goal_body(measure=_measure(target="three")), 422, "invalid_input", "measure.target"
    ),
    "wrong type, list item": BadGoal(
        goal_body(values=["health", 7]), 422, "invalid_input", "values[1]"
    ),
    "unknown life area": BadGoal(goal_body(life_area="sports"), 422, "invalid_input", "life_area"),
    "unknown measure kind": BadGoal(
        goal_body(measure=_measure(kind="laps")), 422, "invalid_input", "measure.kind"
    ),
    "impossible date": BadGoal(goal_body(due_date="2026-02-30"), 422, "invalid_input", "due_date"),
    "not a date": BadGoal(goal_body(start_date="next monday"), 422, "invalid_input", "start_date"),
    "not a uuid": BadGoal(goal_body(replaces="goal-1"), 422, "invalid_input", "replaces"),
    "unknown field": BadGoal(goal_body(colour="red"), 422, "invalid_input", "colour"),
    "missing field": BadGoal(_without("measure"), 422, "invalid_input", "measure"),
    "missing nested field": BadGoal(
        goal_body(measure={"kind": "count", "target": 3, "cadence": "per_week"}),
        422,
        "invalid_input",
        "measure.unit",
    ),
    "statement too long": BadGoal(
        goal_body(statement="a" * 201), 422, "invalid_input", "statement"
    ),
    "statement too short": BadGoal(goal_body(statement="ab"), 422, "statement_length", "statement"),
    "due before start": BadGoal(
        goal_body(start_date=_TODAY.isoformat(), due_date=(_TODAY - timedelta(days=1)).isoformat()),
        422,
        "due_before_start",
        "due_date",
    ),
    "target zero": BadGoal(
        goal_body(measure=_measure(target=0)), 422, "target_not_positive", "measure.target"
    ),
    "target not whole": BadGoal(
        goal_body(measure=_measure(target=2.5)), 422, "target_not_whole", "measure.target"
    ),
}


@pytest.mark.parametrize("case", BAD_GOALS.values(), ids=BAD_GOALS.keys())
async def test_a_bad_goal_is_refused_naming_its_field(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool, case: BadGoal
) -> None:
    before = await event_count(pool)

    response = await api.post(
        "/v1/goals",
        json={**case.body, "client_id": str(clinic.client.id)},
        headers=clinic.therapist.headers,
    )

    problem = assert_problem(response, case.status, case.code)
    assert [error["field"] for error in problem["errors"]] == [case.field]
    assert all(error["message"] for error in problem["errors"])
    assert await event_count(pool) == before


async def test_malformed_json_is_a_bad_request(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    before = await event_count(pool)

    response = await api.post(
        "/v1/goals",
        content=b'{"statement": "Walk for 30 minutes",',
        headers={**clinic.therapist.headers, "Content-Type": "application/json"},
    )

    assert_problem(response, 400, "malformed_body")
    assert await event_count(pool) == before


async def test_a_body_over_64_kib_is_too_large(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    before = await event_count(pool)

    response = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.client.id), cue="x" * (64 * 1024)),
        headers=clinic.therapist.headers,
    )

    assert_problem(response, 413, "body_too_large")
    assert await event_count(pool) == before


async def test_a_body_under_the_limit_is_read_and_judged_field_by_field(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    """Below 64 KiB the body is read, and refused here only for its over-long cue."""
    body = goal_body(client_id=str(clinic.client.id), cue="x" * (60 * 1024))

    response = await api.post("/v1/goals", json=body, headers=clinic.therapist.headers)

    problem = assert_problem(response, 422, "invalid_input")
    assert [error["field"] for error in problem["errors"]] == ["cue"]


@dataclass(frozen=True)
class BadCheckIn:
    measure: dict[str, Any]
    body: dict[str, Any]
    code: str
    field: str


_NOW = datetime.now(UTC)

BAD_CHECK_INS = {
    "rating above 10": BadCheckIn(
        _measure(kind="rating_0_10", target=8, unit="mood"),
        {"amount": 11},
        "amount_out_of_range",
        "amount",
    ),
    "more minutes than a day": BadCheckIn(
        _measure(kind="duration_minutes", target=30, unit="minutes", cadence="per_day"),
        {"amount": 24 * 60 + 1},
        "amount_out_of_range",
        "amount",
    ),
    "zero count": BadCheckIn(_measure(), {"amount": 0}, "amount_not_positive", "amount"),
    "half a count": BadCheckIn(_measure(), {"amount": 1.5}, "amount_not_whole", "amount"),
    "in the future": BadCheckIn(
        _measure(),
        {"amount": 1, "occurred_at": (_NOW + timedelta(hours=2)).isoformat()},
        "check_in_in_future",
        "occurred_at",
    ),
    "before the goal started": BadCheckIn(
        _measure(),
        {"amount": 1, "occurred_at": (_NOW - timedelta(days=30)).isoformat()},
        "check_in_before_start",
        "occurred_at",
    ),
    "wrong type": BadCheckIn(_measure(), {"amount": "one"}, "invalid_input", "amount"),
    "time without zone": BadCheckIn(
        _measure(),
        {"amount": 1, "occurred_at": _NOW.replace(tzinfo=None).isoformat()},
        "time_without_zone",
        "occurred_at",
    ),
}


@pytest.mark.parametrize("case", BAD_CHECK_INS.values(), ids=BAD_CHECK_INS.keys())
async def test_a_bad_check_in_is_refused_naming_its_field(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool, case: BadCheckIn
) -> None:
    goal_id = (await set_goal(api, clinic, measure=case.measure))["goal_id"]
    before = await event_count(pool)

    response = await api.post(
        f"/v1/goals/{goal_id}/check-ins", json=case.body, headers=clinic.client.headers
    )

    problem = assert_problem(response, 422, case.code)
    assert [error["field"] for error in problem["errors"]] == [case.field]
    assert await event_count(pool) == before


async def test_an_unknown_time_zone_for_a_new_user_is_refused(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    before = await event_count(pool)
    users_before = await pool.fetchval("SELECT count(*) FROM users")

    response = await api.post(
        "/v1/users",
        json={
            "role": "client",
            "display_name": "Robin",
            "email": "robin@example.org",
            "time_zone": "Mars/Olympus_Mons",
        },
        headers=clinic.admin.headers,
    )

    problem = assert_problem(response, 422, "unknown_time_zone")
    assert [error["field"] for error in problem["errors"]] == ["time_zone"]
    assert await event_count(pool) == before
    assert await pool.fetchval("SELECT count(*) FROM users") == users_before


async def test_an_adjustment_names_the_changed_field_it_refuses(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    before = await event_count(pool)

    response = await api.post(
        f"/v1/goals/{goal_id}/adjustments",
        json={"changes": {"measure": _measure(target=0)}, "reason": "Too ambitious"},
        headers=clinic.therapist.headers,
    )

    problem = assert_problem(response, 422, "target_not_positive")
    assert [error["field"] for error in problem["errors"]] == ["changes.measure.target"]
    assert await event_count(pool) == before


async def test_an_achievement_may_be_sent_without_a_body(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    """The note is optional, and so is the body that would carry it."""
    goal_id = (await set_goal(api, clinic))["goal_id"]

    response = await api.post(f"/v1/goals/{goal_id}/achievement", headers=clinic.client.headers)

    assert response.status_code == 200, response.text
    assert response.json()["goal"]["status"] == "achieved"
