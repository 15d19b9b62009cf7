"""What a projection read says about itself: a position that never goes backwards, and `stale`
whenever a goal it covers is behind its log or stalled."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from domain.goals.commands import Actor, RecordProgress
from infra.eventstore.envelope import Metadata, NewEvent
from infra.eventstore.store import append, stream_version
from infra.goals.handler import CommandContext, handle
from infra.goals.streams import goal_stream
from tests.integration.api.support import project_everything, set_goal
from tests.integration.api.world import Clinic


async def _projected(api: AsyncTestClient[Litestar], path: str, person: Any) -> dict[str, Any]:
    read = await api.get(path, headers=person.headers)
    assert read.status_code == 200, read.text
    projected: dict[str, Any] = read.json()["projected"]
    return projected


async def _check_in(api: AsyncTestClient[Litestar], clinic: Clinic, goal_id: str) -> int:
    written = await api.post(
        f"/v1/goals/{goal_id}/check-ins", json={"amount": 1}, headers=clinic.client.headers
    )
    assert written.status_code == 200, written.text
    return int(written.json()["position"])


async def test_the_position_holds_when_a_lower_position_commits_late(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    late_goal = (await set_goal(api, clinic))["goal_id"]
    other_goal = (await set_goal(api, clinic))["goal_id"]
    await project_everything(pool)
    therapist = Actor(clinic.therapist.id, "therapist")
    now = datetime.now(UTC)
    async with pool.acquire() as late, late.transaction():
        # Takes its position now and commits after a higher one has been applied.
        await handle(
            late,
            RecordProgress(uuid.UUID(late_goal), uuid.uuid4(), 1, now, therapist, now),
            CommandContext(uuid.uuid4(), None, "late"),
        )
        higher = await _check_in(api, clinic, other_goal)
        await project_everything(pool)
        first = await _projected(api, f"/v1/goals/{other_goal}/progress", clinic.client)
    then = await _projected(api, f"/v1/goals/{other_goal}/progress", clinic.client)
    behind = await _projected(api, f"/v1/goals/{late_goal}/progress", clinic.client)

    assert first == {"position": higher, "stale": False}
    assert then["position"] >= first["position"]
    assert then["stale"] is False
    assert behind["stale"] is True  # its check-in is committed and not applied yet


async def test_a_read_that_covers_a_stalled_goal_is_stale(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool
) -> None:
    stalled = (await set_goal(api, clinic))["goal_id"]
    healthy = (await set_goal(api, clinic, statement="Read every evening"))["goal_id"]
    async with pool.acquire() as conn:
        stream = goal_stream(uuid.UUID(stalled))
        undecodable = NewEvent(
            uuid.uuid4(),
            "goal_paused",
            json.dumps({"type": "goal_paused", "goal_id": stalled}),  # no reason: invalid
            Metadata(None, "system", None, "test"),
        )
        await append(conn, stream, await stream_version(conn, stream), [undecodable])
    written = await _check_in(api, clinic, healthy)
    await project_everything(pool)

    the_list = await _projected(api, f"/v1/clients/{clinic.client.id}/goals", clinic.therapist)
    overview = await _projected(api, f"/v1/clients/{clinic.client.id}/overview", clinic.therapist)
    statistics = await _projected(api, "/v1/clinic/stats", clinic.admin)
    the_other = await _projected(
        api, f"/v1/goals/{healthy}/progress?min_position={written}", clinic.client
    )

    assert the_list["stale"] is True
    assert overview["stale"] is True
    assert statistics["stale"] is True
    assert the_other == {"position": written, "stale": False}
