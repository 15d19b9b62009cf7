"""What a read costs is bounded whatever the data: a per-day goal as old as the rules allow,
and one older still from before they did, with a check-in every day, read through a real
server while its health check must keep answering."""

import asyncio
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from uuid import UUID

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from domain.goals.events import GoalEvent, GoalSet, ProgressRecorded
from domain.goals.terms import GoalTerms, Measure
from infra.eventstore import codec
from infra.eventstore.envelope import Metadata, NewEvent
from infra.eventstore.store import append
from infra.goals.streams import goal_stream
from services.api.progress.routes import DEFAULT_PERIODS, MAX_PERIODS
from tests.integration.api.support import assert_problem, project_everything
from tests.integration.api.world import Clinic, goal_body

DAILY = Measure("count", 1, "walks", "per_day")
CHECKED_DAYS = 300
HEALTH_ANSWERS_WITHIN = 0.5  # seconds; a loop blocked by such reads took several


def _event(event: GoalEvent, clinic: Clinic) -> NewEvent:
    metadata = Metadata(clinic.therapist.id, "therapist", None, "read-costs")
    return NewEvent(uuid.uuid4(), codec.event_type(event), codec.encode_event(event), metadata)


async def _daily_goal(pool: asyncpg.Pool, clinic: Clinic, start: date, days_checked: int) -> UUID:
    """A per-day goal with one check-in on each of its last `days_checked` days, written
    straight to the log: the oldest start the rules allow, or an older one as a goal set before
    they bounded it."""
    today = datetime.now(UTC).date()
    goal_id = uuid.uuid4()
    terms = GoalTerms(
        "Walk every day", "physical_health", (), DAILY, None, start,
        today + timedelta(days=5 * 365), "medium", "UTC",
    )  # fmt: skip
    events: list[GoalEvent] = [GoalSet(goal_id, clinic.client.id, terms)]
    events += [
        ProgressRecorded(
            goal_id, uuid.uuid4(), 1, datetime.combine(today - timedelta(days=day), clock(9), UTC)
        )
        for day in range(days_checked)
    ]
    async with pool.acquire() as conn:
        await append(conn, goal_stream(goal_id), 0, [_event(event, clinic) for event in events])
    await project_everything(pool)
    return goal_id


async def test_the_oldest_goal_the_rules_allow_is_set_through_the_api(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    """The goals below start a year back: the rules still let a therapist set that."""
    today = datetime.now(UTC).date()
    body = goal_body(
        client_id=str(clinic.client.id),
        measure={"kind": "count", "target": 1, "unit": "walks", "cadence": "per_day"},
        start_date=today.replace(year=today.year - 1).isoformat(),
        due_date=(today + timedelta(days=5 * 365)).isoformat(),
    )

    response = await api.post("/v1/goals", json=body, headers=clinic.therapist.headers)

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("start_years_back", [1, 2025])
async def test_progress_is_a_page_of_periods_whatever_the_goals_age(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool, start_years_back: int
) -> None:
    today = datetime.now(UTC).date()
    start = today.replace(year=today.year - start_years_back)
    goal_id = await _daily_goal(pool, clinic, start, days_checked=CHECKED_DAYS)

    latest = await api.get(f"/v1/goals/{goal_id}/progress", headers=clinic.client.headers)

    assert latest.status_code == 200, latest.text
    page = latest.json()
    assert len(page["periods"]) == DEFAULT_PERIODS
    assert page["periods"][-1]["start"] == today.isoformat()
    assert page["streak"] == CHECKED_DAYS
    assert len(latest.content) < 4_000
    before = await api.get(
        f"/v1/goals/{goal_id}/progress",
        params={"before": page["earlier"], "periods": MAX_PERIODS},
        headers=clinic.client.headers,
    )
    assert before.status_code == 200, before.text
    earlier = before.json()["periods"]
    assert len(earlier) == MAX_PERIODS
    assert earlier[-1]["end"] == page["periods"][0]["start"]
    too_many = await api.get(
        f"/v1/goals/{goal_id}/progress",
        params={"periods": MAX_PERIODS + 1},
        headers=clinic.client.headers,
    )
    problem = assert_problem(too_many, 422, "invalid_input")
    assert [error["field"] for error in problem["errors"]] == ["periods"]


async def test_health_answers_promptly_while_the_costliest_reads_run(
    served_api: httpx.AsyncClient, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    today = datetime.now(UTC).date()
    goal_ids = [
        await _daily_goal(
            pool, clinic, today.replace(year=today.year - years), days_checked=CHECKED_DAYS
        )
        for years in (1, 2025)
    ]
    headers = clinic.client.headers

    async def costly_reads() -> list[httpx.Response]:
        reads = [served_api.get("/v1/me/goals", headers=headers) for _ in range(4)]
        reads += [
            served_api.get(
                f"/v1/goals/{goal_id}/progress", params={"periods": MAX_PERIODS}, headers=headers
            )
            for goal_id in goal_ids
            for _ in range(2)
        ]
        return await asyncio.gather(*reads)

    reading = asyncio.create_task(costly_reads())
    waits = []
    while not reading.done():
        sent = time.monotonic()
        live = await served_api.get("/health/live")
        waits.append(time.monotonic() - sent)
        assert live.status_code == 200
    answers = await reading

    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    assert max(waits) < HEALTH_ANSWERS_WITHIN, waits
    mine = answers[0].json()["goals"]
    assert all(goal["this_period"]["start"] == today.isoformat() for goal in mine)
    assert all(goal["streak"] == CHECKED_DAYS for goal in mine)
