"""Small helpers the behaviour tests share: setting a goal over HTTP, and looking at the log."""

from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.projections.feed import lagging_goals
from infra.projections.goal_summaries import project_goal
from tests.integration.api.world import Clinic, Person, goal_body

PROBLEM_JSON = "application/problem+json"


async def set_goal(
    api: AsyncTestClient[Litestar], clinic: Clinic, **overrides: Any
) -> dict[str, Any]:
    """A goal the therapist sets for their client; the 201 body."""
    created = await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.client.id), **overrides),
        headers=clinic.therapist.headers,
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def project_everything(pool: asyncpg.Pool) -> None:
    """Brings the goal projection up to date in-process, as the workers would."""
    async with pool.acquire() as conn:
        for goal_id in await lagging_goals(conn, timedelta(0)):
            await project_goal(conn, goal_id)


async def event_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


async def row_counts(pool: asyncpg.Pool) -> dict[str, int]:
    """Rows of every table in the database, so that a refusal can be seen to write nothing."""
    tables = await pool.fetch(
        "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name "
        "FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' "
        "AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
    )
    names = [table["name"] for table in tables]
    counts = ", ".join(f"(SELECT count(*) FROM {name})" for name in names)
    row = await pool.fetchrow(f"SELECT {counts}")
    assert row is not None
    return {name: int(count) for name, count in zip(names, row, strict=True)}


async def goal_events(pool: asyncpg.Pool, goal_id: str | UUID) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT stream_version, position, event_type, metadata::text AS metadata "
            "FROM events WHERE stream_id = $1 ORDER BY stream_version",
            f"goal-{goal_id}",
        )
    )


async def clinic_id_of(api: AsyncTestClient[Litestar], person: Person) -> UUID:
    profile = await api.get(f"/v1/users/{person.id}", headers=person.headers)
    assert profile.status_code == 200, profile.text
    return UUID(profile.json()["clinic_id"])


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """The response is RFC 9457 problem details with this status and stable code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["code"] == code, problem
    assert problem["title"]
    assert problem["type"].endswith(code.replace("_", "-"))
    return problem
