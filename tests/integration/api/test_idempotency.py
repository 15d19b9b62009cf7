"""Idempotency-Key on POSTs: a retry returns the first response and writes nothing."""

import asyncio
from typing import Any

import asyncpg
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.support import (
    assert_problem,
    event_count,
    project_everything,
    set_goal,
)
from tests.integration.api.world import Clinic, goal_body


def _keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def test_a_retried_goal_returns_the_first_response_and_writes_nothing(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    body = goal_body(client_id=str(clinic.client.id))
    headers = _keyed(clinic.therapist.headers, "set-walking-goal")

    first = await api.post("/v1/goals", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    written = await event_count(pool)

    retried = await api.post("/v1/goals", json=body, headers=headers)

    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.content == first.content
    assert await event_count(pool) == written
    await project_everything(pool)
    mine = await api.get("/v1/me/goals", headers=clinic.client.headers)
    assert [goal["goal_id"] for goal in mine.json()["goals"]] == [first.json()["goal_id"]]


async def test_a_retried_check_in_returns_the_first_response_and_writes_nothing(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    headers = _keyed(clinic.client.headers, "check-in-monday")

    first = await api.post(f"/v1/goals/{goal_id}/check-ins", json={"amount": 1}, headers=headers)
    assert first.status_code == 200, first.text
    written = await event_count(pool)
    retried = await api.post(f"/v1/goals/{goal_id}/check-ins", json={"amount": 1}, headers=headers)

    assert retried.status_code == 200
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json() == first.json()
    assert await event_count(pool) == written
    read = await api.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)
    assert read.json()["progress_total"] == 1


async def test_the_same_key_with_another_body_is_refused(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    headers = _keyed(clinic.therapist.headers, "one-key")
    first = await api.post(
        "/v1/goals", json=goal_body(client_id=str(clinic.client.id)), headers=headers
    )
    assert first.status_code == 201, first.text
    written = await event_count(pool)

    reused = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.client.id), statement="Call a friend every week"),
        headers=headers,
    )

    assert_problem(reused, 422, "idempotency_key_reused")
    assert await event_count(pool) == written


async def test_the_same_key_on_another_path_is_refused(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    first_goal = (await set_goal(api, clinic))["goal_id"]
    second_goal = (await set_goal(api, clinic))["goal_id"]
    headers = _keyed(clinic.client.headers, "check-in")
    first = await api.post(f"/v1/goals/{first_goal}/check-ins", json={"amount": 1}, headers=headers)
    assert first.status_code == 200, first.text
    written = await event_count(pool)

    reused = await api.post(
        f"/v1/goals/{second_goal}/check-ins", json={"amount": 1}, headers=headers
    )

    assert_problem(reused, 422, "idempotency_key_reused")
    assert await event_count(pool) == written


async def test_different_callers_use_the_same_key_independently(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    body = goal_body(client_id=str(clinic.client.id))

    by_therapist = await api.post(
        "/v1/goals", json=body, headers=_keyed(clinic.therapist.headers, "shared-key")
    )
    by_client = await api.post(
        "/v1/goals", json=body, headers=_keyed(clinic.client.headers, "shared-key")
    )

    assert by_therapist.status_code == 201, by_therapist.text
    assert by_client.status_code == 201, by_client.text
    assert "idempotent-replayed" not in by_client.headers
    assert by_client.json()["goal_id"] != by_therapist.json()["goal_id"]
    await project_everything(pool)
    mine = await api.get("/v1/me/goals", headers=clinic.client.headers)
    assert len(mine.json()["goals"]) == 2


async def test_a_failed_request_does_not_use_up_its_key(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    headers = _keyed(clinic.therapist.headers, "try-again")
    before = await event_count(pool)

    refused = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.client.id), statement="ab"),
        headers=headers,
    )
    assert_problem(refused, 422, "statement_length")
    assert await event_count(pool) == before
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0

    corrected = await api.post(
        "/v1/goals", json=goal_body(client_id=str(clinic.client.id)), headers=headers
    )

    assert corrected.status_code == 201, corrected.text
    assert "idempotent-replayed" not in corrected.headers
    assert await event_count(pool) == before + 1


async def test_concurrent_requests_with_one_key_write_once(
    api: AsyncTestClient[Litestar],
    served_api: httpx.AsyncClient,
    clinic: Clinic,
    pool: asyncpg.Pool,
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    written = await event_count(pool)

    responses = await asyncio.gather(
        *(
            served_api.post(
                f"/v1/goals/{goal_id}/check-ins",
                json={"amount": 1},
                headers=_keyed(clinic.client.headers, "double-tap"),
            )
            for _ in range(4)
        )
    )

    assert [response.status_code for response in responses] == [200] * 4
    assert len({response.content for response in responses}) == 1
    replayed = [response.headers.get("idempotent-replayed") for response in responses]
    assert sorted(replayed, key=str) == [None, "true", "true", "true"]
    assert await event_count(pool) == written + 1


async def test_an_idempotency_key_longer_than_255_characters_is_a_bad_request(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    before = await event_count(pool)
    response = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.client.id)),
        headers=_keyed(clinic.therapist.headers, "k" * 256),
    )
    assert_problem(response, 400, "invalid_idempotency_key")
    assert await event_count(pool) == before


async def test_a_retried_token_issuance_does_not_show_or_keep_the_token(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    path = f"/v1/users/{clinic.client.id}/tokens"
    headers = _keyed(clinic.client.headers, "issue-phone-token")
    tokens_before = await pool.fetchval("SELECT count(*) FROM access_tokens")

    first = await api.post(path, json={"expires_in_days": 30}, headers=headers)
    retried = await api.post(path, json={"expires_in_days": 30}, headers=headers)

    assert first.status_code == 201, first.text
    issued: dict[str, Any] = first.json()
    secret = issued["token"]
    assert secret
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    replayed: dict[str, Any] = retried.json()
    assert "token" not in replayed
    assert replayed == {key: value for key, value in issued.items() if key != "token"}
    assert await pool.fetchval("SELECT count(*) FROM access_tokens") == tokens_before + 1

    stored = await pool.fetchrow(
        "SELECT status_code, body FROM idempotency_keys WHERE actor_id = $1 AND key = $2",
        clinic.client.id,
        "issue-phone-token",
    )
    assert stored is not None
    assert stored["status_code"] == 201
    assert issued["token_id"].encode() in stored["body"]
    assert secret.encode() not in stored["body"]
    works = await api.get("/v1/me/goals", headers={"Authorization": f"Bearer {secret}"})
    assert works.status_code == 200
