"""What the API answers does not depend on a fold keeping every check-in: retries are still
recognised whatever the goal became, corrections of check-ins long past still count, and a goal
folded afresh from its snapshot answers as the process that wrote it did."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.config import Settings
from infra.goals import folds
from services.api.app import create_app
from tests.integration.api.support import assert_problem, event_count, set_goal
from tests.integration.api.world import TOKEN_KEY, Clinic, goal_body

_CLOSING = {
    "pause": {"reason": "A hard week"},
    "cancel": {"reason": "No longer relevant"},
    "miss": {"cause": "obstacles", "reflection": "Too much at once"},
}


def _another_process(database_url: str) -> AsyncTestClient[Litestar]:
    """The API as another process runs it: nothing folded yet."""
    settings = Settings(database_url=database_url, token_hash_key=TOKEN_KEY, rate_limit_requests=0)
    return AsyncTestClient(create_app(settings))


async def _check_in(
    api: AsyncTestClient[Litestar] | httpx.AsyncClient, clinic: Clinic, goal_id: str, **body: Any
) -> dict[str, Any]:
    answer = await api.post(
        f"/v1/goals/{goal_id}/check-ins", json=body, headers=clinic.client.headers
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def _correct(
    api: AsyncTestClient[Litestar] | httpx.AsyncClient, clinic: Clinic, goal_id: str, check_in: str
) -> httpx.Response:
    return await api.post(
        f"/v1/goals/{goal_id}/corrections",
        json={"scope": "check_in", "check_in_id": check_in, "reason": "Counted twice"},
        headers=clinic.therapist.headers,
    )


@pytest.mark.parametrize("closing", _CLOSING)
async def test_a_retried_check_in_is_recognised_whatever_the_goal_became(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool, closing: str
) -> None:
    goal_id = str((await set_goal(api, clinic))["goal_id"])
    body = {"check_in_id": str(uuid.uuid4()), "amount": 2}
    first = await _check_in(api, clinic, goal_id, **body)
    closed = await api.post(
        f"/v1/goals/{goal_id}/{closing}", json=_CLOSING[closing], headers=clinic.client.headers
    )
    assert closed.status_code == 200, closed.text
    written = await event_count(pool)

    again = await api.post(
        f"/v1/goals/{goal_id}/check-ins", json=body, headers=clinic.client.headers
    )

    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first
    assert await event_count(pool) == written


async def test_a_check_in_corrected_since_is_still_recognised_when_sent_again(
    api: AsyncTestClient[Litestar], clinic: Clinic
) -> None:
    goal_id = str((await set_goal(api, clinic))["goal_id"])
    check_in = str(uuid.uuid4())
    body = {"check_in_id": check_in, "amount": 2}
    first = await _check_in(api, clinic, goal_id, **body)
    corrected = await _correct(api, clinic, goal_id, check_in)
    assert corrected.status_code == 200, corrected.text

    again = await api.post(
        f"/v1/goals/{goal_id}/check-ins", json=body, headers=clinic.client.headers
    )
    other = await api.post(
        f"/v1/goals/{goal_id}/check-ins", json=body | {"amount": 3}, headers=clinic.client.headers
    )

    assert again.status_code == 200, again.text
    assert again.json() == first
    assert_problem(other, 409, "check_in_conflict")


async def test_corrections_of_check_ins_long_past_leave_the_totals_of_all_of_them(
    api: AsyncTestClient[Litestar], clinic: Clinic, database_url: str
) -> None:
    goal_id = str((await set_goal(api, clinic))["goal_id"])
    shared = await api.post(
        f"/v1/goals/{goal_id}/supporters/{clinic.supporter.id}", headers=clinic.client.headers
    )
    assert shared.status_code == 200, shared.text
    now = datetime.now(UTC)
    # The latest moment is the first check-in's, so that correcting it moves the latest back to
    # a check-in no longer among the ones a goal shows.
    moments = [now - timedelta(minutes=1), *(now - timedelta(hours=n) for n in range(1, 15))]
    check_ins = [str(uuid.uuid4()) for _ in moments]
    for n, (check_in, moment) in enumerate(zip(check_ins, moments, strict=True)):
        amount = n % 3 + 1
        await _check_in(
            api,
            clinic,
            goal_id,
            check_in_id=check_in,
            amount=amount,
            occurred_at=moment.isoformat(),
        )
    amounts = [n % 3 + 1 for n in range(len(moments))]

    oldest = await _correct(api, clinic, goal_id, check_ins[0])
    assert oldest.status_code == 200, oldest.text
    goal = oldest.json()["goal"]
    assert goal["progress_total"] == sum(amounts[1:])
    assert goal["check_in_count"] == len(moments) - 1
    following = await api.get(f"/v1/goals/{goal_id}", headers=clinic.supporter.headers)
    latest = datetime.fromisoformat(following.json()["last_check_in_at"])
    assert latest == moments[1]

    # A check-in in one trip after the counted correction, then a fresh process's view.
    after = await _check_in(api, clinic, goal_id, amount=5)
    assert after["goal"]["progress_total"] == sum(amounts[1:]) + 5
    async with _another_process(database_url) as fresh:
        read = await fresh.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)
    assert (
        read.json() == (await api.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)).json()
    )


async def test_two_corrections_of_one_check_in_at_once_go_in_once(
    served_api: httpx.AsyncClient, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    created = await served_api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.client.id)),
        headers=clinic.therapist.headers,
    )
    goal_id = created.json()["goal_id"]
    check_in = str(uuid.uuid4())
    await _check_in(served_api, clinic, goal_id, check_in_id=check_in, amount=1)

    answers = await asyncio.gather(*(_correct(served_api, clinic, goal_id, check_in) for _ in "ab"))

    assert sorted(answer.status_code for answer in answers) == [200, 422]
    refused = next(answer for answer in answers if answer.status_code == 422)
    assert_problem(refused, 422, "already_corrected")
    corrections = await pool.fetchval(
        "SELECT count(*) FROM events WHERE event_type = 'correction_recorded'"
    )
    assert corrections == 1


async def test_a_long_goal_is_folded_afresh_from_its_snapshot(
    api: AsyncTestClient[Litestar],
    clinic: Clinic,
    pool: asyncpg.Pool,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(folds, "SNAPSHOT_EVERY", 5)
    goal_id = str((await set_goal(api, clinic))["goal_id"])
    for _ in range(7):
        await _check_in(api, clinic, goal_id, amount=1)
    await api.app.state.goal_writer.snapshots.settled()
    kept = await pool.fetchval(
        "SELECT version FROM goal_snapshots WHERE goal_id = $1", uuid.UUID(goal_id)
    )
    assert kept is not None
    assert kept >= 5
    seen = (await api.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)).json()

    async with _another_process(database_url) as fresh:
        read = await fresh.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)
        folded = fresh.app.state.goal_writer.folds.cached(uuid.UUID(goal_id))

    assert read.json() == seen
    assert folded is not None
    assert folded.snapshot_version == kept
