"""A consumer added as a module and a registry line gets the log as the goal summaries do: on the
live path through the relay and the workers, through the reconciler when its messages are lost,
and whole again from `goals projections rebuild`; and a failing one holds no other back."""

import os
import subprocess
import sys
from collections import defaultdict
from datetime import timedelta
from uuid import UUID

import asyncpg
import pytest

from infra.db.connection import Connection
from infra.db.roles import PROJECTIONS
from infra.projections.feed import lagging_goals
from infra.projections.goal_summaries import project_goal
from tests.integration.consumers import (
    CREATE_RECORDER_TABLE,
    RECORDER,
    RECORDER_MODULE,
    RECORDER_TABLE,
    RECORDER_VERSION,
    REFUSER,
    REFUSER_MODULE,
)
from tests.integration.worker.histories import CheckInWriter, set_goals
from tests.integration.worker.launcher import WorkerServices
from tests.integration.worker.projection import (
    feed_head,
    wait_for_convergence,
    wait_for_service,
    wait_until,
)
from tests.servers import service_url

BOOT_SECONDS = 15
PROMPT_SECONDS = 5
# Lost messages come back through the reconciler: events age RECONCILE_AFTER_SECONDS first.
RECONCILED_SECONDS = 20
GOALS = 4
ROUNDS = 3


@pytest.fixture
async def recorder_table(admin_database_url: str) -> None:
    """The test consumer's table, owned as every consumer's tables are."""
    conn = await asyncpg.connect(admin_database_url, server_settings={"role": PROJECTIONS})
    try:
        await conn.execute(CREATE_RECORDER_TABLE)
    finally:
        await conn.close()


async def recorded_out_of_order(conn: Connection | asyncpg.Pool) -> list[str]:
    """Each goal whose recorded versions are not exactly 1, 2, … up to its stream's head, in
    the order the consumer was given them; empty once the consumer has every goal whole."""
    seen: dict[UUID, list[int]] = defaultdict(list)
    for row in await conn.fetch(
        f"SELECT goal_id, stream_version FROM {RECORDER_TABLE} ORDER BY seen"
    ):
        seen[row["goal_id"]].append(row["stream_version"])
    heads = {
        row["goal_id"]: row["version"]
        for row in await conn.fetch(
            "SELECT substr(stream_id, 6)::uuid AS goal_id, version FROM streams "
            "WHERE stream_id LIKE 'goal-%'"
        )
    }
    return [
        f"goal {goal_id}: {seen.get(goal_id, [])} for a stream at {head}"
        for goal_id, head in heads.items()
        if seen.get(goal_id, []) != list(range(1, head + 1))
    ]


async def recorded_whole(pool: asyncpg.Pool, within: float) -> list[str]:
    async def whole() -> bool:
        return not await recorded_out_of_order(pool)

    await wait_until(whole, within)
    return await recorded_out_of_order(pool)


def consumers(*modules: str) -> dict[str, str]:
    return {"CONSUMER_MODULES": ",".join(modules)}


async def test_a_registered_consumer_gets_every_goal_in_version_order_through_the_relay(
    worker_services: WorkerServices, pool: asyncpg.Pool, recorder_table: None
) -> None:
    # The reconciler waits far longer than the test, so only the relay's messages count.
    service = worker_services.start(
        RECONCILE_AFTER_SECONDS="600", **consumers(RECORDER_MODULE, REFUSER_MODULE)
    )
    assert await wait_for_service(service, pool, BOOT_SECONDS)

    goal_ids = await set_goals(pool, GOALS)
    await CheckInWriter(pool, goal_ids).write_rounds(ROUNDS)

    # The refuser stalls every goal at its first event, and the others go on regardless.
    assert await recorded_whole(pool, PROMPT_SECONDS) == []
    assert await wait_for_convergence(pool, PROMPT_SECONDS) == []

    async def refused_everywhere() -> bool:
        stalled = await pool.fetchval(
            "SELECT count(*) FROM consumer_progress WHERE consumer = $1 AND stalled_at_version = 1",
            REFUSER,
        )
        return bool(stalled == GOALS)

    assert await wait_until(refused_everywhere, PROMPT_SECONDS)
    dead = await pool.fetch(
        "SELECT goal_id, error FROM consumer_dead_letters WHERE consumer = $1", REFUSER
    )
    assert sorted(row["goal_id"] for row in dead) == sorted(goal_ids)
    assert all(row["error"].startswith("RuntimeError: refused version 1") for row in dead)
    projected = {record["consumer"] for record in service.logged("goal_projected")}
    # The webhook deliveries consumer, built in, has nothing to send here and may come later.
    assert {"goal_summaries", "nudges", RECORDER, REFUSER} <= projected
    assert projected <= {"goal_summaries", "nudges", "webhook_deliveries", RECORDER, REFUSER}
    assert service.logged("reconciler_requeued") == []
    assert service.returncode is None


async def test_the_reconciler_catches_a_registered_consumer_up(
    worker_services: WorkerServices,
    pool: asyncpg.Pool,
    admin_conn: Connection,
    recorder_table: None,
) -> None:
    goal_ids = await set_goals(pool, GOALS)
    await CheckInWriter(pool, goal_ids).write_rounds(ROUNDS)
    # The summaries are up to date and the relay has passed every event: as if the messages
    # for the other consumers were lost in Redis after the relay moved on.
    async with pool.acquire() as conn:
        for goal_id in await lagging_goals(conn, timedelta(0)):
            await project_goal(conn, goal_id)
    head = await feed_head(pool)
    await admin_conn.execute(
        "INSERT INTO consumer_checkpoints (consumer, transaction_id, position) "
        "VALUES ('relay', $1, $2)",
        head.transaction_id,
        head.position,
    )

    service = worker_services.start(**consumers(RECORDER_MODULE))
    assert await wait_for_service(service, pool, BOOT_SECONDS)

    assert await recorded_whole(pool, RECONCILED_SECONDS) == []
    requeued = service.logged("reconciler_requeued")
    assert requeued
    # Every consumer the summaries' catching up left behind, and only those.
    assert {record["consumer"] for record in requeued} == {RECORDER, "webhook_deliveries", "nudges"}


def goals_command(admin_database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`goals ...`, as an operator runs it, with the test consumers."""
    env = {
        **os.environ,
        "DATABASE_URL": service_url(admin_database_url),
        "MIGRATION_DATABASE_URL": admin_database_url,
        "LOG_FORMAT": "json",
        **consumers(RECORDER_MODULE, REFUSER_MODULE),
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "services.cli", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_rebuild_command_rebuilds_a_registered_consumer(
    pool: asyncpg.Pool, admin_database_url: str, admin_conn: Connection, recorder_table: None
) -> None:
    goal_ids = await set_goals(pool, GOALS)
    await CheckInWriter(pool, goal_ids).write_rounds(ROUNDS)
    # Rows the rebuild must drop: nothing of the consumer's survives it but what the log says.
    await admin_conn.execute(
        f"INSERT INTO {RECORDER_TABLE} (goal_id, stream_version, position) VALUES ($1, 2, 0)",
        goal_ids[0],
    )

    rebuilt = goals_command(admin_database_url, "projections", "rebuild", RECORDER)

    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert f"{RECORDER} rebuilt: {GOALS} goals" in rebuilt.stdout
    assert await recorded_out_of_order(pool) == []
    version = await pool.fetchval(
        "SELECT version FROM projection_versions WHERE projection = $1", RECORDER
    )
    assert version == RECORDER_VERSION
    refused = goals_command(admin_database_url, "projections", "rebuild", REFUSER)
    assert refused.returncode == 2
    assert "known: goal_summaries, test_recorder" in refused.stdout


async def test_migrate_rebuilds_a_consumer_built_by_another_version(
    pool: asyncpg.Pool, admin_database_url: str, admin_conn: Connection, recorder_table: None
) -> None:
    goal_ids = await set_goals(pool, GOALS)
    await CheckInWriter(pool, goal_ids).write_rounds(ROUNDS)
    await admin_conn.execute(
        "INSERT INTO projection_versions (projection, version) VALUES ($1, $2)",
        RECORDER,
        RECORDER_VERSION - 1,
    )

    migrated = goals_command(admin_database_url, "migrate")

    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert await recorded_out_of_order(pool) == []
    version = await pool.fetchval(
        "SELECT version FROM projection_versions WHERE projection = $1", RECORDER
    )
    assert version == RECORDER_VERSION
