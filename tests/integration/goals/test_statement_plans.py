"""A batch of goal requests reads each goal's events through the (stream_id, stream_version)
index, whatever PostgreSQL's statistics say.

A plan that joins the batch to the whole log, by a hash join over a sequential scan of `events`,
makes every batch cost in proportion to everything ever recorded. The planner picks it where it
lacks statistics (a new database, or one just restored or upgraded, before ANALYZE): it then
takes each stream to hold 0.5 % of the log. Both cases are checked here, for the plan made for
the batch's own arguments and for the generic plan the API's batch connections keep.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import pytest

from domain.goals.commands import Actor, RecordProgress
from domain.goals.events import ProgressRecorded
from infra.db.connection import Connection
from infra.goals.check_ins_at_once import CheckInAttempt, read_and_append
from infra.goals.handler import CommandContext, new_events
from infra.goals.request_read import RequestKey, read_for_requests
from tests.integration.goals.clinics import ClinicWorld, Holder, new_goal
from tests.integration.projections.goals import NOW

BATCH = 32
"""Requests in one statement: as many as a busy API process sends together."""
OTHER_EVENTS = 20_000
"""Events of other streams: a log far larger than the goals the batch names."""
STREAM_INDEXES = {"events_stream_version", "events_check_in_once"}
"""Indexes that lead with the stream: by version, and a check-in id within its goal."""


def _check_in(holder: Holder, goal_id: UUID) -> CheckInAttempt:
    check_in_id = uuid.uuid4()
    actor = Actor(holder.user.id, holder.user.role)
    command = RecordProgress(goal_id, check_in_id, 1, NOW, actor, NOW)
    context = CommandContext(uuid.uuid4(), holder.user.clinic_id, "plan-test")
    (event,) = new_events([ProgressRecorded(goal_id, check_in_id, 1, NOW)], command, context)
    return CheckInAttempt(
        RequestKey(holder.secret_hash, goal_id, 1),
        assumed_holder=holder.user.id,
        via_care_team=False,
        check_in_id=check_in_id,
        event=event,
    )


async def _statement_sent(
    conn: Connection, run: Callable[[], Awaitable[object]]
) -> tuple[str, tuple[Any, ...]]:
    """The one statement `run` sends on `conn`, with its arguments. It runs once unrecorded,
    so that asyncpg has looked up the statement's types by then."""
    await run()
    sent: list[asyncpg.connection.LoggedQuery] = []
    conn.add_query_logger(sent.append)
    try:
        await run()
    finally:
        conn.remove_query_logger(sent.append)
    await asyncio.sleep(0)  # asyncpg hands the record to the logger on the loop's next turn
    (statement,) = sent
    return statement.query, statement.args


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _reads_of_the_log(plan: dict[str, Any]) -> list[str]:
    """The nodes of `plan` that read `events` other than by an index that leads with the
    stream."""
    found = []
    for node in _nodes(plan):
        if node.get("Relation Name") != "events" or node["Node Type"] == "ModifyTable":
            continue
        indexes = {node.get("Index Name")} if "Index" in node["Node Type"] else set()
        if node["Node Type"] == "Bitmap Heap Scan":
            indexes = {inner.get("Index Name") for inner in _nodes(node) if inner is not node}
        if not indexes or not indexes <= STREAM_INDEXES:
            found.append(f"{node['Node Type']} on events, indexes {sorted(map(str, indexes))}")
    return found


async def _plan(
    conn: Connection, statement: str, args: tuple[Any, ...], cache_mode: str
) -> dict[str, Any]:
    async with conn.transaction():
        await conn.execute(f"SET LOCAL plan_cache_mode = {cache_mode}")
        if cache_mode == "force_custom_plan":
            explained = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {statement}", *args)
        else:  # the plan for any arguments: their values do not enter it
            await conn.execute(f"PREPARE batch AS {statement}")
            nulls = ", ".join(["NULL"] * len(args))
            explained = await conn.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE batch({nulls})")
            await conn.execute("DEALLOCATE batch")
    (plan,) = msgspec.json.decode(explained)
    root: dict[str, Any] = plan["Plan"]
    return root


@pytest.fixture
async def goals(conn: Connection, admin_conn: Connection, north: ClinicWorld) -> list[UUID]:
    """`BATCH` goals of north's client, in a log that holds `OTHER_EVENTS` more, and that
    autovacuum leaves unanalyzed until the test says otherwise."""
    await admin_conn.execute("ALTER TABLE events SET (autovacuum_enabled = false)")
    therapist = Actor(north.therapist.user.id, "therapist")
    goal_ids = [await new_goal(conn, north.client.user.id, therapist, 0) for _ in range(BATCH)]
    await admin_conn.execute(
        """
        INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
        SELECT 'goal-' || gen_random_uuid(), 1, gen_random_uuid(), 'progress_recorded',
            '{}', '{}'
        FROM generate_series(1, $1)
        """,
        OTHER_EVENTS,
    )
    return goal_ids


def _read(conn: Connection, north: ClinicWorld, goals: list[UUID]) -> Awaitable[object]:
    return read_for_requests(conn, [RequestKey(north.client.secret_hash, g, 1) for g in goals])


def _check_ins(conn: Connection, north: ClinicWorld, goals: list[UUID]) -> Awaitable[object]:
    return read_and_append(conn, [_check_in(north.client, goal_id) for goal_id in goals])


@pytest.mark.parametrize("batch", [_read, _check_ins], ids=["read", "check-in"])
async def test_a_batch_reads_each_goal_s_events_by_the_index(
    conn: Connection,
    admin_conn: Connection,
    north: ClinicWorld,
    goals: list[UUID],
    batch: Callable[[Connection, ClinicWorld, list[UUID]], Awaitable[object]],
) -> None:
    statement, args = await _statement_sent(conn, lambda: batch(conn, north, goals))
    analyzed = "SELECT count(*) FROM pg_stats WHERE schemaname = 'public' AND tablename = 'events'"
    assert await admin_conn.fetchval(analyzed) == 0

    for statistics in ("none", "analyzed"):
        if statistics == "analyzed":
            await admin_conn.execute("ANALYZE events")
        for cache_mode in ("force_custom_plan", "force_generic_plan"):
            plan = await _plan(conn, statement, args, cache_mode)
            assert _reads_of_the_log(plan) == [], f"statistics: {statistics}, {cache_mode}"
