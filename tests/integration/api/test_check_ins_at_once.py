"""Check-ins on a goal the process has folded, by a caller it has seen, go in with their read in
one round trip; whenever that is not safe they take the usual path, with the usual answers."""

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from domain.goals.commands import Actor, PauseGoal
from infra.goals.check_ins_at_once import AttemptOutcome, CheckInAttempt
from infra.goals.handler import CommandContext, handle
from services.api.goals.store import GoalStore
from tests.integration.api.support import assert_problem, event_count, goal_events, set_goal
from tests.integration.api.world import Clinic


@contextmanager
def _recorded(app: Litestar) -> Iterator[list[AttemptOutcome]]:
    """The outcomes of the app's one-trip check-ins while the block runs."""
    store: GoalStore = app.state.goal_store
    outcomes: list[AttemptOutcome] = []
    original = store.check_in_at_once

    async def recording(attempt: CheckInAttempt) -> AttemptOutcome:
        outcome = await original(attempt)
        outcomes.append(outcome)
        return outcome

    store.check_in_at_once = recording  # type: ignore[method-assign]
    try:
        yield outcomes
    finally:
        store.check_in_at_once = original  # type: ignore[method-assign]


@pytest.fixture
async def goal_id(api: AsyncTestClient[Litestar], clinic: Clinic) -> str:
    """A goal this process has folded, and a client and therapist it has seen: each has read it."""
    goal_id = str((await set_goal(api, clinic))["goal_id"])
    for person in (clinic.client, clinic.therapist):
        read = await api.get(f"/v1/goals/{goal_id}", headers=person.headers)
        assert read.status_code == 200, read.text
    return goal_id


async def _check_in(
    api: AsyncTestClient[Litestar], goal_id: str, headers: dict[str, str], **body: object
) -> httpx.Response:
    return await api.post(
        f"/v1/goals/{goal_id}/check-ins", json={"amount": 1, **body}, headers=headers
    )


async def _check_in_writing_nothing(
    api: AsyncTestClient[Litestar], pool: asyncpg.Pool, goal_id: str, headers: dict[str, str]
) -> tuple[httpx.Response, list[AttemptOutcome]]:
    """A check-in that must write nothing: its reply, and the one-trip attempts it made."""
    written = await event_count(pool)
    with _recorded(api.app) as outcomes:
        reply = await _check_in(api, goal_id, headers)
    assert await event_count(pool) == written
    return reply, outcomes


async def test_check_ins_by_the_client_and_the_therapist_go_in_at_once(
    api: AsyncTestClient[Litestar], clinic: Clinic, goal_id: str, pool: asyncpg.Pool
) -> None:
    writers = [clinic.client, clinic.therapist, clinic.client]
    with _recorded(api.app) as outcomes:
        replies = []
        for number, person in enumerate(writers, start=1):
            headers = {**person.headers, "X-Request-ID": f"at-once-{number}"}
            replies.append(await _check_in(api, goal_id, headers, amount=number))

    assert [reply.status_code for reply in replies] == [200, 200, 200]
    assert [outcome.appended is not None for outcome in outcomes] == [True, True, True]
    events = await goal_events(pool, goal_id)
    assert [reply.json()["version"] for reply in replies] == [2, 3, 4]
    positions = [row["position"] for row in events[1:]]
    assert [reply.json()["position"] for reply in replies] == positions
    assert [reply.headers["etag"] for reply in replies] == ['"2"', '"3"', '"4"']
    last = replies[-1].json()["goal"]
    assert (last["check_in_count"], last["progress_total"]) == (3, 6)
    assert [check_in["amount"] for check_in in last["recent_check_ins"]] == [1, 2, 3]
    metadata = [json.loads(row["metadata"]) for row in events[1:]]
    assert [(item["actor_id"], item["actor_role"]) for item in metadata] == [
        (str(person.id), person.role) for person in writers
    ]
    assert [item["correlation_id"] for item in metadata] == ["at-once-1", "at-once-2", "at-once-3"]
    read = await api.get(f"/v1/goals/{goal_id}", headers=clinic.therapist.headers)
    assert read.json()["version"] == 4
    assert read.json()["recent_check_ins"] == last["recent_check_ins"]


async def test_a_therapist_taken_off_the_care_team_is_told_the_goal_is_not_found(
    api: AsyncTestClient[Litestar], clinic: Clinic, goal_id: str, pool: asyncpg.Pool
) -> None:
    removed = await api.delete(
        f"/v1/clients/{clinic.client.id}/therapists/{clinic.therapist.id}",
        headers=clinic.admin.headers,
    )
    assert removed.status_code == 204, removed.text

    reply, outcomes = await _check_in_writing_nothing(api, pool, goal_id, clinic.therapist.headers)

    assert_problem(reply, 404, "not_found")
    assert [outcome.appended for outcome in outcomes] == [None]


async def test_a_revoked_token_is_refused(
    api: AsyncTestClient[Litestar], clinic: Clinic, goal_id: str, pool: asyncpg.Pool
) -> None:
    issued = await api.post(
        f"/v1/users/{clinic.client.id}/tokens", json={}, headers=clinic.client.headers
    )
    second = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert (await _check_in(api, goal_id, second)).status_code == 200
    revoked = await api.delete(
        f"/v1/tokens/{issued.json()['token_id']}", headers=clinic.client.headers
    )
    assert revoked.status_code == 204, revoked.text

    reply, outcomes = await _check_in_writing_nothing(api, pool, goal_id, second)

    assert_problem(reply, 401, "not_authenticated")
    assert [outcome.read.caller for outcome in outcomes] == [None]


async def test_a_goal_paused_elsewhere_since_this_process_folded_it_refuses_the_check_in(
    api: AsyncTestClient[Litestar], clinic: Clinic, goal_id: str, pool: asyncpg.Pool
) -> None:
    # Another API process pauses the goal: this one's fold is now behind.
    pause = PauseGoal(
        UUID(goal_id), "A week away", Actor(clinic.therapist.id, "therapist"), datetime.now(UTC)
    )
    async with pool.acquire() as conn:
        await handle(conn, pause, CommandContext(uuid.uuid4(), None, "another-process"))

    reply, outcomes = await _check_in_writing_nothing(api, pool, goal_id, clinic.client.headers)

    assert_problem(reply, 422, "goal_status_conflict")
    assert [outcome.appended for outcome in outcomes] == [None]


async def test_a_check_in_id_sent_twice_is_recorded_once(
    api: AsyncTestClient[Litestar], clinic: Clinic, goal_id: str, pool: asyncpg.Pool
) -> None:
    check_in_id = str(uuid.uuid4())
    first = await _check_in(api, goal_id, clinic.client.headers, check_in_id=check_in_id)
    assert first.status_code == 200, first.text
    written = await event_count(pool)

    again = await _check_in(api, goal_id, clinic.therapist.headers, check_in_id=check_in_id)

    # Another person's check-in cannot be the same one (tests/integration/api/
    # test_check_in_retries.py has the client's own retries).
    assert_problem(again, 409, "check_in_conflict")
    assert await event_count(pool) == written


async def test_concurrent_check_ins_from_both_writers_all_go_in_once_each(
    api: AsyncTestClient[Litestar],
    served_api: httpx.AsyncClient,
    clinic: Clinic,
    goal_id: str,
    pool: asyncpg.Pool,
) -> None:
    async def check_in(person_headers: dict[str, str], amount: int) -> httpx.Response:
        return await served_api.post(
            f"/v1/goals/{goal_id}/check-ins", json={"amount": amount}, headers=person_headers
        )

    # Twice, so that the second wave meets a goal and callers the served process has seen.
    replies = []
    for _ in range(2):
        replies += await asyncio.gather(
            *(
                check_in(person.headers, amount)
                for amount in range(1, 11)
                for person in (clinic.client, clinic.therapist)
            )
        )

    assert [reply.status_code for reply in replies] == [200] * 40
    versions = sorted(reply.json()["version"] for reply in replies)
    assert versions == list(range(2, 42))
    events = await goal_events(pool, goal_id)
    assert [row["stream_version"] for row in events] == list(range(1, 42))
    read = await api.get(f"/v1/goals/{goal_id}", headers=clinic.client.headers)
    assert (read.json()["check_in_count"], read.json()["progress_total"]) == (40, 220)


async def test_a_therapist_of_another_clinic_seen_here_is_told_the_goal_is_not_found(
    api: AsyncTestClient[Litestar],
    clinic: Clinic,
    other_clinic: Clinic,
    goal_id: str,
    pool: asyncpg.Pool,
) -> None:
    # The process has seen the other clinic's therapist, on a goal of their own clinic.
    own_goal = (await set_goal(api, other_clinic))["goal_id"]
    seen = await api.get(f"/v1/goals/{own_goal}", headers=other_clinic.therapist.headers)
    assert seen.status_code == 200, seen.text

    reply, outcomes = await _check_in_writing_nothing(
        api, pool, goal_id, other_clinic.therapist.headers
    )

    assert_problem(reply, 404, "not_found")
    assert [(outcome.appended, outcome.read.client) for outcome in outcomes] == [(None, None)]


async def test_a_supporter_following_the_goal_may_not_check_in_and_nothing_is_attempted(
    api: AsyncTestClient[Litestar], clinic: Clinic, goal_id: str, pool: asyncpg.Pool
) -> None:
    shared = await api.post(
        f"/v1/goals/{goal_id}/supporters/{clinic.supporter.id}", headers=clinic.client.headers
    )
    assert shared.status_code == 200, shared.text
    seen = await api.get(f"/v1/goals/{goal_id}", headers=clinic.supporter.headers)
    assert seen.status_code == 200, seen.text

    reply, outcomes = await _check_in_writing_nothing(api, pool, goal_id, clinic.supporter.headers)

    assert_problem(reply, 403, "forbidden")
    assert outcomes == []
