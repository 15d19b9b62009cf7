"""If-Match makes a goal write conditional on the version the writer read; every write reports
the goal's new version and its event's position in the log."""

import asyncio
from collections.abc import Awaitable

import asyncpg
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import assert_problem, event_count, goal_events, set_goal
from tests.integration.api.world import Clinic


async def test_a_second_write_on_the_version_already_written_conflicts(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    headers = {**clinic.client.headers, "If-Match": '"1"'}

    first = await api.post(f"/v1/goals/{goal_id}/check-ins", json={"amount": 1}, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 2
    assert first.headers["etag"] == '"2"'
    written = await event_count(pool)

    second = await api.post(f"/v1/goals/{goal_id}/check-ins", json={"amount": 1}, headers=headers)
    problem = assert_problem(second, 409, "version_conflict")
    assert problem["current_version"] == 2
    assert second.headers["etag"] == '"2"'
    assert await event_count(pool) == written


async def test_of_concurrent_writes_on_one_version_exactly_one_applies(
    api: AsyncTestClient[Litestar],
    served_api: httpx.AsyncClient,
    clinic: Clinic,
    pool: asyncpg.Pool,
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]

    async def check_in(amount: int) -> httpx.Response:
        return await served_api.post(
            f"/v1/goals/{goal_id}/check-ins",
            json={"amount": amount},
            headers={**clinic.client.headers, "If-Match": '"1"'},
        )

    responses = await asyncio.gather(*(check_in(amount) for amount in range(1, 6)))

    assert sorted(response.status_code for response in responses) == [200, 409, 409, 409, 409]
    winner = next(response for response in responses if response.status_code == 200)
    assert winner.json()["version"] == 2
    for loser in (response for response in responses if response.status_code == 409):
        assert assert_problem(loser, 409, "version_conflict")["current_version"] == 2
    assert [row["stream_version"] for row in await goal_events(pool, goal_id)] == [1, 2]


async def test_concurrent_writes_without_if_match_all_apply_on_the_latest_version(
    api: AsyncTestClient[Litestar],
    served_api: httpx.AsyncClient,
    clinic: Clinic,
    pool: asyncpg.Pool,
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]

    responses = await asyncio.gather(
        *(
            served_api.post(
                f"/v1/goals/{goal_id}/check-ins", json={"amount": 1}, headers=clinic.client.headers
            )
            for _ in range(5)
        )
    )

    assert [response.status_code for response in responses] == [200] * 5, [
        response.text for response in responses
    ]
    assert sorted(response.json()["version"] for response in responses) == [2, 3, 4, 5, 6]
    read = await api.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)
    assert read.json()["progress_total"] == 5
    assert [row["stream_version"] for row in await goal_events(pool, goal_id)] == [1, 2, 3, 4, 5, 6]


async def test_concurrent_keyed_writes_without_if_match_all_apply_and_replay_their_own_reply(
    api: AsyncTestClient[Litestar],
    served_api: httpx.AsyncClient,
    clinic: Clinic,
    pool: asyncpg.Pool,
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]

    def keyed_check_in(key: str) -> Awaitable[httpx.Response]:
        return served_api.post(
            f"/v1/goals/{goal_id}/check-ins",
            json={"amount": 1},
            headers={**clinic.client.headers, "Idempotency-Key": key},
        )

    keys = [f"walk-{n}" for n in range(5)]
    first = await asyncio.gather(*map(keyed_check_in, keys))
    again = await asyncio.gather(*map(keyed_check_in, keys))

    assert [response.status_code for response in first] == [200] * 5, [
        response.text for response in first
    ]
    assert sorted(response.json()["version"] for response in first) == [2, 3, 4, 5, 6]
    assert [response.json() for response in again] == [response.json() for response in first]
    assert all(response.headers["idempotent-replayed"] == "true" for response in again)
    assert [row["stream_version"] for row in await goal_events(pool, goal_id)] == [1, 2, 3, 4, 5, 6]


async def test_a_write_without_if_match_applies_to_the_latest_version(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    for _ in range(2):
        checked = await api.post(
            f"/v1/goals/{goal_id}/check-ins", json={"amount": 1}, headers=clinic.client.headers
        )
        assert checked.status_code == 200, checked.text

    paused = await api.post(
        f"/v1/goals/{goal_id}/pause",
        json={"reason": "Exams this month"},
        headers=clinic.client.headers,
    )

    assert paused.status_code == 200, paused.text
    assert paused.json()["version"] == 4
    assert paused.json()["goal"]["status"] == "paused"


async def test_an_if_match_naming_the_current_version_applies(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    read = await api.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)

    paused = await api.post(
        f"/v1/goals/{goal_id}/pause",
        json={"reason": "Exams this month"},
        headers={**clinic.client.headers, "If-Match": read.headers["etag"]},
    )

    assert paused.status_code == 200, paused.text
    assert paused.json()["version"] == 2


async def test_an_if_match_that_is_not_a_version_is_a_bad_request(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    written = await event_count(pool)

    for garbage in ("abc", '"one"', "*", '"-1"', '"1.5"'):
        response = await api.post(
            f"/v1/goals/{goal_id}/check-ins",
            json={"amount": 1},
            headers={**clinic.client.headers, "If-Match": garbage},
        )
        assert_problem(response, 400, "invalid_if_match")

    assert await event_count(pool) == written


async def test_who_may_write_is_answered_before_a_malformed_if_match(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    garbage = {"If-Match": "abc"}

    for headers, status, code in (
        ({"Authorization": "Bearer not-a-token"}, 401, "not_authenticated"),
        (clinic.other_client.headers, 404, "not_found"),
        (clinic.supporter.headers, 404, "not_found"),
    ):
        response = await api.post(
            f"/v1/goals/{goal_id}/pause",
            json={"reason": "Exams this month"},
            headers={**headers, **garbage},
        )
        assert_problem(response, status, code)


async def test_each_write_reports_the_new_version_and_a_growing_log_position(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    created = await set_goal(api, clinic)
    goal_id = created["goal_id"]
    replies = [created]
    for path, body in (
        ("check-ins", {"amount": 1}),
        ("check-ins", {"amount": 2}),
        ("pause", {"reason": "A week of travel"}),
        ("resume", None),
    ):
        response = await api.post(
            f"/v1/goals/{goal_id}/{path}", json=body, headers=clinic.client.headers
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == f'"{response.json()["version"]}"'
        replies.append(response.json())

    assert [reply["version"] for reply in replies] == [1, 2, 3, 4, 5]
    assert [reply["goal"]["version"] for reply in replies] == [1, 2, 3, 4, 5]
    positions = [reply["position"] for reply in replies]
    assert positions == sorted(set(positions))
    stored = await goal_events(pool, goal_id)
    assert [row["position"] for row in stored] == positions
