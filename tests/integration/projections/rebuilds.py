"""What rebuild tests share: the projection's rows, the `goals` command, and its lock wait."""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from infra.db.connection import Connection
from infra.db.pool import clone_database, drop_database, url_for_database
from infra.db.roles import PROJECTIONS
from tests.conftest import RUN_PREFIX
from tests.servers import service_url

# The rows a rebuild must reproduce, in an order that does not depend on how they were written.
_SUMMARIES = """
SELECT goal_id, status, statement, terms::text, version, last_position, ended_at,
    last_check_in_at, attainment_rating, supporters, stalled_at_version
FROM goal_summaries ORDER BY goal_id
"""
_CHECK_INS = """
SELECT check_in_id, goal_id, amount, occurred_at, entered_in_error FROM goal_check_ins
ORDER BY check_in_id
"""
_DEAD_LETTERS = "SELECT event_id, goal_id, position FROM projection_dead_letters ORDER BY event_id"

Rows = list[tuple[object, ...]]


async def projection_rows(conn: Connection) -> tuple[Rows, Rows, Rows]:
    return (
        [tuple(row) for row in await conn.fetch(_SUMMARIES)],
        [tuple(row) for row in await conn.fetch(_CHECK_INS)],
        [tuple(row) for row in await conn.fetch(_DEAD_LETTERS)],
    )


async def next_tables(conn: Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE tablename LIKE '%\\_next' ORDER BY tablename"
    )
    return [row[0] for row in rows]


def start_rebuild_command(admin_database_url: str) -> subprocess.Popen[str]:
    """`goals projections rebuild` against the test's database, as an operator runs it: with the
    migration login, acting as the projection tables' owner."""
    env = {
        **os.environ,
        "DATABASE_URL": service_url(admin_database_url),
        "MIGRATION_DATABASE_URL": admin_database_url,
        "LOG_FORMAT": "json",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "projections", "rebuild"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_interruptible,  # noqa: PLW1509 - only resets a signal's action
    )


def _interruptible() -> None:
    """Ctrl-C acts on the command as in a terminal. A shell starts a job in the background with
    SIGINT ignored, its children inherit that, and Python then leaves SIGINT ignored: a suite
    run in the background would wait in vain for the command to stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def finished(process: subprocess.Popen[str], seconds: float = 60) -> tuple[int, str]:
    """The command's exit code and what it printed, once it has ended. Its pipes are read
    while it runs: a command that filled one would otherwise wait for the test to read it."""
    try:
        stdout, stderr = await asyncio.to_thread(process.communicate, timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        raise AssertionError(f"the rebuild did not end; it said:\n{stdout}{stderr}") from None
    return process.returncode, stdout + stderr


async def wait_until_switch_waits(conn: Connection, seconds: float = 30) -> None:
    """Until some session of this database waits for a lock on `goal_summaries`: the rebuild,
    at its switch, behind a lock the test holds. Every test database is a copy of one template,
    so the table has the same oid in all of them: without the database, a session waiting in
    another test's database would count."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_locks "
            "WHERE NOT granted AND relation = 'goal_summaries'::regclass "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the rebuild never reached its switch")


@asynccontextmanager
async def live_tables_held(pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    """A read-only transaction that has read the live tables: its locks make the rebuild's
    switch wait until the block ends, and it takes no transaction id, so the feed goes on.
    Other sessions' reads of the live tables queue behind the waiting switch; this one's do not,
    so the block looks at them through the connection it is given."""
    async with pool.acquire() as holder, holder.transaction(readonly=True):
        await projection_rows(holder)
        yield holder


def goal_ids_in(text: str) -> set[uuid.UUID]:
    found = set()
    for word in text.replace(":", " ").split():
        try:
            found.add(uuid.UUID(word))
        except ValueError:
            continue
    return found


@asynccontextmanager
async def fresh_database(postgres_url: str, template: str) -> AsyncIterator[str]:
    """A migrated database of its own, for one example of a property, dropped after it."""
    url = url_for_database(postgres_url, f"{RUN_PREFIX}_{uuid.uuid4().hex[:12]}")
    await clone_database(url, template)
    try:
        yield url
    finally:
        await drop_database(url)


@asynccontextmanager
async def rebuilding_connection(admin_database_url: str) -> AsyncIterator[Connection]:
    """A connection as a rebuild runs: acting as the owner of the projection's tables."""
    conn = await asyncpg.connect(admin_database_url, server_settings={"role": PROJECTIONS})
    try:
        yield conn
    finally:
        await conn.close()
