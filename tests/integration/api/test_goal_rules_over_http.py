"""Goal rules that only the API can check: the clinic's active-goal limit and replacements."""

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import (
    assert_problem,
    event_count,
    project_everything,
    set_goal,
)
from tests.integration.api.world import Clinic, goal_body


async def test_the_goal_past_the_clinics_limit_is_set_with_a_warning(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    replies = [await set_goal(api, clinic, statement=f"Goal number {n}") for n in range(1, 7)]

    assert [reply["warnings"] for reply in replies[:5]] == [[]] * 5
    sixth = replies[5]
    assert sixth["goal"]["status"] == "active"
    assert [warning["code"] for warning in sixth["warnings"]] == ["many_active_goals"]
    assert "5 active goals" in sixth["warnings"][0]["message"]
    await project_everything(pool)
    mine = await api.get("/v1/me/goals", headers=clinic.client.headers)
    assert len(mine.json()["goals"]) == 6


async def test_goals_that_are_not_active_do_not_count_towards_the_limit(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    goal_ids = [(await set_goal(api, clinic))["goal_id"] for _ in range(5)]
    paused = await api.post(
        f"/v1/goals/{goal_ids[0]}/pause",
        json={"reason": "Too much at once"},
        headers=clinic.client.headers,
    )
    assert paused.status_code == 200, paused.text

    sixth = await set_goal(api, clinic)

    assert sixth["warnings"] == []


async def test_the_limit_counts_the_clients_goals_not_the_therapists(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    for _ in range(5):
        await set_goal(api, clinic)

    other = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.other_client.id)),
        headers=clinic.other_therapist.headers,
    )

    assert other.status_code == 201, other.text
    assert other.json()["warnings"] == []


async def test_a_missed_goal_can_be_replaced_by_a_fresh_attempt(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    missed_id = (await set_goal(api, clinic))["goal_id"]
    missed = await api.post(
        f"/v1/goals/{missed_id}/miss",
        json={"cause": "unrealistic", "reflection": "Three walks a week was too many"},
        headers=clinic.client.headers,
    )
    assert missed.status_code == 200, missed.text

    fresh = await api.post(
        "/v1/goals",
        json=goal_body(
            client_id=str(clinic.client.id),
            statement="Walk for 20 minutes",
            replaces=missed_id,
            measure={"kind": "count", "target": 1, "unit": "walks", "cadence": "per_week"},
        ),
        headers=clinic.therapist.headers,
    )

    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["goal"]["replaces"] == missed_id
    read = await api.get(f"/v1/goals/{fresh.json()['goal_id']}", headers=clinic.client.headers)
    assert read.json()["replaces"] == missed_id


async def test_an_active_goal_cannot_be_replaced(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    active_id = (await set_goal(api, clinic))["goal_id"]
    before = await event_count(pool)

    response = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.client.id), replaces=active_id),
        headers=clinic.therapist.headers,
    )

    problem = assert_problem(response, 422, "replaced_goal_open")
    assert [error["field"] for error in problem["errors"]] == ["replaces"]
    assert await event_count(pool) == before


async def test_a_goal_of_another_client_cannot_be_replaced(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    others = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.other_client.id)),
        headers=clinic.other_therapist.headers,
    )
    assert others.status_code == 201, others.text
    cancelled = await api.post(
        f"/v1/goals/{others.json()['goal_id']}/cancel",
        json={"reason": "Set by mistake"},
        headers=clinic.other_therapist.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    before = await event_count(pool)

    response = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.client.id), replaces=others.json()["goal_id"]),
        headers=clinic.therapist.headers,
    )

    assert_problem(response, 404, "not_found")
    assert await event_count(pool) == before
