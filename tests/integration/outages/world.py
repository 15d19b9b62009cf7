"""A clinic with a goal on a test's own database, set up through the API that serves it."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from tests.integration.api.world import Clinic, build_clinic, goal_body

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class GoalOfClinic:
    clinic: Clinic
    goal_id: str

    @property
    def check_ins(self) -> str:
        return f"/v1/goals/{self.goal_id}/check-ins"


async def clinic_with_goal(client: httpx.AsyncClient, database_url: str) -> GoalOfClinic:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        clinic = await build_clinic(client, pool, "north")  # type: ignore[arg-type]
    finally:
        await pool.close()
    created = await client.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.client.id)),
        headers=clinic.therapist.headers,
    )
    assert created.status_code == 201, created.text
    return GoalOfClinic(clinic, created.json()["goal_id"])


async def check_in(client: httpx.AsyncClient, goal: GoalOfClinic, **body: Any) -> httpx.Response:
    return await client.post(
        goal.check_ins,
        json={"amount": 1, "check_in_id": str(uuid.uuid4())} | body,
        headers=goal.clinic.client.headers,
    )


def assert_unavailable(answer: httpx.Response, code: str = "database_unavailable") -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert int(answer.headers["retry-after"]) > 0
    problem = answer.json()
    assert (problem["status"], problem["code"]) == (503, code)


async def wait_until(condition: Callable[[], Awaitable[bool]], within: float) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.1)
