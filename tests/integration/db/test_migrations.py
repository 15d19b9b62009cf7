import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from infra.db.migrate import Migration, MigrationError, bundled_migrations, is_current, migrate
from infra.db.pool import drop_database, url_for_database


@pytest.fixture
async def empty_database_url(postgres_url: str) -> AsyncIterator[str]:
    """A database name that does not exist yet; dropped afterwards if a test created it."""
    url = url_for_database(postgres_url, f"goals_test_empty_{uuid.uuid4().hex[:10]}")
    yield url
    await drop_database(url)


def _goals(*arguments: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - runs this project's own command line
        [sys.executable, "-m", "services.cli", *arguments],
        env={"DATABASE_URL": database_url, "LOG_FORMAT": "json", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_goals_migrate_creates_the_database_and_is_a_no_op_the_second_time(
    empty_database_url: str,
) -> None:
    first = _goals("migrate", database_url=empty_database_url)
    second = _goals("migrate", database_url=empty_database_url)

    assert first.returncode == 0, first.stderr
    assert '"database_created"' in first.stderr
    assert f'"applied": {len(bundled_migrations())}' in first.stderr
    assert second.returncode == 0, second.stderr
    assert '"applied": 0' in second.stderr
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await is_current(conn)
        applied = await conn.fetchval("SELECT count(*) FROM schema_migrations")
        assert applied == len(bundled_migrations())
    finally:
        await conn.close()


async def test_an_applied_migration_that_was_edited_is_refused(
    empty_database_url: str,
) -> None:
    assert _goals("migrate", database_url=empty_database_url).returncode == 0
    original = bundled_migrations()[0]
    edited = Migration(original.version, original.name, original.sql + "\n-- edited\n")
    conn = await asyncpg.connect(empty_database_url)
    try:
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(conn, [edited, *bundled_migrations()[1:]])
        # The same, as an operator meets it: the ledger no longer matches the shipped file.
        await conn.execute("UPDATE schema_migrations SET checksum = 'other' WHERE version = 1")
        assert not await is_current(conn)
    finally:
        await conn.close()
    refused = _goals("migrate", database_url=empty_database_url)
    assert refused.returncode == 1
    assert "was changed after it was applied" in refused.stderr


async def test_a_failing_migration_leaves_nothing_half_done(empty_database_url: str) -> None:
    assert _goals("migrate", database_url=empty_database_url).returncode == 0
    broken = Migration(9000, "9000_broken.sql", "CREATE TABLE half_done (id int); SELECT 1/0;")
    conn = await asyncpg.connect(empty_database_url)
    try:
        with pytest.raises(asyncpg.DivisionByZeroError):
            await migrate(conn, [*bundled_migrations(), broken])
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        recorded = "SELECT count(*) FROM schema_migrations WHERE version = 9000"
        assert await conn.fetchval(recorded) == 0
    finally:
        await conn.close()


async def test_processes_migrating_at_once_apply_each_migration_once(
    empty_database_url: str,
) -> None:
    assert _goals("migrate", database_url=empty_database_url).returncode == 0
    extra = Migration(9001, "9001_extra.sql", "CREATE TABLE extra (id int);")

    async def run() -> int:
        conn = await asyncpg.connect(empty_database_url)
        try:
            return await migrate(conn, [*bundled_migrations(), extra])
        finally:
            await conn.close()

    applied = await asyncio.gather(*(run() for _ in range(4)))

    assert sorted(applied) == [0, 0, 0, 1]
