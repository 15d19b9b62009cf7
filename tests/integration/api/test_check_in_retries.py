"""A check-in sent again with its `check_in_id`: the retry of a request whose answer was lost
(a timeout, a dropped connection, a 503 after the commit) answers the first result, and writes
nothing; the same id with anything else is refused."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import assert_problem, event_count, set_goal
from tests.integration.api.world import Clinic

# How a request reaches the database changes nothing here: alone (no header: one round trip when
# the process knows the goal), on the latest version named by If-Match, and under its own
# Idempotency-Key each time (a client that sends a new key with each attempt).
PATHS = {
    "one_trip": lambda version: {},
    "if_match": lambda version: {"If-Match": f'"{version}"'},
    "own_key": lambda version: {"Idempotency-Key": str(uuid.uuid4())},
}


@pytest.fixture
async def goal_id(api: AsyncTestClient[Litestar], clinic: Clinic) -> str:
    return str((await set_goal(api, clinic))["goal_id"])


async def _check_in(
    api: AsyncTestClient[Litestar], clinic: Clinic, goal_id: str, path: str, **body: Any
) -> httpx.Response:
    read = await api.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)
    headers = clinic.client.headers | PATHS[path](read.json()["version"])
    return await api.post(f"/v1/goals/{goal_id}/check-ins", json=body, headers=headers)


@pytest.mark.parametrize("path", PATHS)
async def test_a_retried_check_in_answers_the_first_result_and_writes_nothing(
    api: AsyncTestClient[Litestar], clinic: Clinic, goal_id: str, pool: asyncpg.Pool, path: str
) -> None:
    body = {"check_in_id": str(uuid.uuid4()), "amount": 2, "note": "walked"}
    first = await _check_in(api, clinic, goal_id, path, **body)
    assert first.status_code == 200, first.text
    written = await event_count(pool)

    again = await _check_in(api, clinic, goal_id, path, **body)

    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"]
    assert again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert await event_count(pool) == written


async def test_a_retry_after_the_goal_moved_on_answers_the_goal_as_the_check_in_left_it(
    api: AsyncTestClient[Litestar], clinic: Clinic, goal_id: str, pool: asyncpg.Pool
) -> None:
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = {"check_in_id": str(uuid.uuid4()), "amount": 1, "occurred_at": an_hour_ago}
    first = await _check_in(api, clinic, goal_id, "one_trip", **body)
    assert first.status_code == 200, first.text
    later = await _check_in(api, clinic, goal_id, "one_trip", amount=1)
    assert later.status_code == 200, later.text
    achieved = await api.post(
        f"/v1/goals/{goal_id}/achievement", json={}, headers=clinic.client.headers
    )
    assert achieved.status_code == 200, achieved.text
    written = await event_count(pool)

    again = await _check_in(api, clinic, goal_id, "one_trip", **body)

    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.json()["goal"]["status"] == "active"
    assert await event_count(pool) == written


@pytest.mark.parametrize(
    "changed",
    [{"amount": 3}, {"note": "ran"}, {"occurred_at": "2000-01-01T00:00:00Z"}],
    ids=["amount", "note", "moment"],
)
async def test_a_check_in_id_sent_with_another_check_in_is_refused(
    api: AsyncTestClient[Litestar],
    clinic: Clinic,
    goal_id: str,
    pool: asyncpg.Pool,
    changed: dict[str, Any],
) -> None:
    body = {"check_in_id": str(uuid.uuid4()), "amount": 2, "note": "walked"}
    first = await _check_in(api, clinic, goal_id, "one_trip", **body)
    assert first.status_code == 200, first.text
    written = await event_count(pool)

    other = await _check_in(api, clinic, goal_id, "one_trip", **(body | changed))

    assert_problem(other, 409, "check_in_conflict")
    assert await event_count(pool) == written
