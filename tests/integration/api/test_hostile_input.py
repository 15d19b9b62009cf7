"""Input a hostile or careless client sends: each gets problem details with a stable code and
the field's path, never a 500, and nothing is written."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import assert_problem, event_count, row_counts, set_goal
from tests.integration.api.world import Clinic, goal_body

JSON = {"Content-Type": "application/json"}


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
class Hostile:
    """A write, with `{goal}` in its path standing for a goal that exists."""

    path: str
    body: dict[str, Any]
    field: str
    code: str = "invalid_input"
    as_admin: bool = False


_NUL = "walk\u0000ed"

NUL_IN_TEXT = {
    "check-in note": Hostile("/v1/goals/{goal}/check-ins", {"note": _NUL}, "note"),
    "statement": Hostile("/v1/goals", goal_body(statement=_NUL), "statement"),
    "value": Hostile("/v1/goals", goal_body(values=["ok", _NUL]), "values[1]"),
    "unit": Hostile(
        "/v1/goals",
        goal_body(measure={"kind": "count", "target": 3, "unit": _NUL, "cadence": "per_week"}),
        "measure.unit",
    ),
    "pause reason": Hostile("/v1/goals/{goal}/pause", {"reason": _NUL}, "reason"),
    "adjustment reason": Hostile(
        "/v1/goals/{goal}/adjustments",
        {"changes": {"statement": _NUL}, "reason": "why"},
        "changes.statement",
    ),
    "reflection": Hostile(
        "/v1/goals/{goal}/miss", {"cause": "obstacles", "reflection": _NUL}, "reflection"
    ),
    "display name": Hostile(
        "/v1/users",
        {"role": "client", "display_name": _NUL, "email": "nul@example.org"},
        "display_name",
        as_admin=True,
    ),
    "email": Hostile(
        "/v1/users",
        {"role": "client", "display_name": "Nul", "email": "n\u0000l@example.org"},
        "email",
        as_admin=True,
    ),
}

_EARLY = (datetime.now(UTC).date() - timedelta(days=400)).isoformat()
_MEASURE = {"kind": "count", "target": 3, "unit": "walks", "cadence": "per_week"}

OUT_OF_BOUNDS = {
    "amount as a string": Hostile("/v1/goals/{goal}/check-ins", {"amount": "1"}, "amount"),
    "target as a string": Hostile(
        "/v1/goals", goal_body(measure={**_MEASURE, "target": "3"}), "measure.target"
    ),
    "rating as a string": Hostile("/v1/goals/{goal}/ratings", {"rating": "1"}, "rating"),
    "amount 1e20": Hostile(
        "/v1/goals/{goal}/check-ins", {"amount": 1e20}, "amount", "amount_out_of_range"
    ),
    "amount 1e308": Hostile(
        "/v1/goals/{goal}/check-ins", {"amount": 1e308}, "amount", "amount_out_of_range"
    ),
    "amount 2^63": Hostile(
        "/v1/goals/{goal}/check-ins", {"amount": 2**63}, "amount", "amount_out_of_range"
    ),
    "occurred_at before year 1": Hostile(
        "/v1/goals/{goal}/check-ins",
        {"occurred_at": "0001-01-01T00:00:00+05:00"},
        "occurred_at",
        "time_out_of_range",
    ),
    "occurred_at past year 9999": Hostile(
        "/v1/goals/{goal}/check-ins",
        {"occurred_at": "9999-12-31T23:00:00-05:00"},
        "occurred_at",
        "time_out_of_range",
    ),
    "start in year 1": Hostile(
        "/v1/goals", goal_body(start_date="0001-01-01"), "start_date", "start_too_early"
    ),
    "start in 1900": Hostile(
        "/v1/goals", goal_body(start_date="1900-01-01"), "start_date", "start_too_early"
    ),
    "start over a year back": Hostile(
        "/v1/goals", goal_body(start_date=_EARLY), "start_date", "start_too_early"
    ),
}


@pytest.mark.parametrize(
    "case", [*NUL_IN_TEXT.values(), *OUT_OF_BOUNDS.values()], ids=[*NUL_IN_TEXT, *OUT_OF_BOUNDS]
)
async def test_hostile_input_is_refused_naming_its_field_and_writes_nothing(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool, case: Hostile
) -> None:
    path = case.path.replace("{goal}", (await set_goal(api, clinic))["goal_id"])
    body = {**case.body, "client_id": str(clinic.client.id)} if path == "/v1/goals" else case.body
    caller = clinic.admin if case.as_admin else clinic.therapist
    if path.endswith(("/check-ins", "/miss")):
        caller = clinic.client
    before = await row_counts(pool)

    response = await api.post(path, json=body, headers=caller.headers)

    problem = assert_problem(response, 422, case.code)
    assert [error["field"] for error in problem["errors"]] == [case.field]
    assert await row_counts(pool) == before


async def test_a_string_that_is_not_utf8_is_a_bad_request(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    before = await row_counts(pool)

    response = await api.post(
        f"/v1/goals/{goal_id}/check-ins",
        content=b'{"note": "walked \xff\xfe"}',
        headers={**clinic.client.headers, **JSON},
    )

    problem = assert_problem(response, 400, "malformed_body")
    assert "UTF-8" in problem["detail"]
    assert await row_counts(pool) == before


@pytest.mark.parametrize("depth", [5_000, 30_000])
async def test_json_nested_thousands_deep_is_refused(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool, depth: int
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    before = await row_counts(pool)
    nested = b"[" * depth + b"]" * depth

    for body in (nested, b'{"note": ' + nested + b"}"):
        response = await api.post(
            f"/v1/goals/{goal_id}/check-ins",
            content=body,
            headers={**clinic.client.headers, **JSON},
        )
        assert_problem(response, 422, "invalid_input")
    assert await row_counts(pool) == before


async def test_a_check_in_with_no_body_counts_one_now(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]

    response = await api.post(f"/v1/goals/{goal_id}/check-ins", headers=clinic.client.headers)

    assert response.status_code == 200, response.text
    assert response.json()["goal"]["progress_total"] == 1
    assert response.json()["goal"]["check_in_count"] == 1


async def test_a_missing_body_is_named_in_words(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    before = await event_count(pool)

    response = await api.post(f"/v1/goals/{goal_id}/pause", headers=clinic.therapist.headers)

    problem = assert_problem(response, 422, "invalid_input")
    assert problem["errors"] == [
        {"field": "body", "message": "This request needs a JSON body, with at least `reason`."}
    ]
    assert await event_count(pool) == before


async def test_a_count_goals_total_stays_an_exact_number_at_the_largest_amounts(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    largest = 10_000
    for _ in range(3):
        checked = await api.post(
            f"/v1/goals/{goal_id}/check-ins",
            json={"amount": largest},
            headers=clinic.client.headers,
        )
        assert checked.status_code == 200, checked.text

    assert checked.json()["goal"]["progress_total"] == 3 * largest
