import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

import tests.conftest
from infra.db.migrate import Migration, MigrationError, bundled_migrations, is_current, migrate
from infra.db.pool import create_database_if_missing, drop_database, url_for_database
from infra.db.roles import APP, OWNER, PROJECTIONS, ensure_member, ensure_role
from infra.eventstore.store import append, stream_version
from tests.integration.eventstore.events import new_event


@pytest.fixture
async def empty_database_url(postgres_url: str) -> AsyncIterator[str]:
    """A database name that does not exist yet; dropped afterwards if a test created it."""
    url = url_for_database(postgres_url, f"goals_test_empty_{uuid.uuid4().hex[:10]}")
    yield url
    await drop_database(url)


def _goals(
    *arguments: str, database_url: str, service_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`goals` with `database_url` as the migration login's URL, and the service's own login."""
    env = {
        "MIGRATION_DATABASE_URL": database_url,
        "DATABASE_URL": service_url or tests.conftest.service_url(database_url),
        "LOG_FORMAT": "json",
        "PATH": "",
    }
    return subprocess.run(  # noqa: S603 - runs this project's own command line
        [sys.executable, "-m", "services.cli", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


_GRANTS = """
SELECT c.relname, c.relowner::regrole::text AS owner, c.relacl::text AS grants
FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT 'schema public', n.nspowner::regrole::text, n.nspacl::text
FROM pg_namespace n WHERE n.nspname = 'public'
UNION ALL
SELECT 'default for ' || d.defaclrole::regrole::text, '', d.defaclacl::text FROM pg_default_acl d
ORDER BY 1
"""


async def _grants(conn: asyncpg.Connection) -> list[tuple[str, str, str]]:
    return [(row["relname"], row["owner"], row["grants"]) for row in await conn.fetch(_GRANTS)]


async def test_goals_migrate_creates_the_database_and_is_a_no_op_the_second_time(
    empty_database_url: str,
) -> None:
    # As `make run` does: the defaults, with the service as goals_app itself.
    service = _as_login(empty_database_url, APP)
    first = _goals("migrate", database_url=empty_database_url, service_url=service)
    conn = await asyncpg.connect(empty_database_url)
    try:
        after_first = await _grants(conn)
        second = _goals("migrate", database_url=empty_database_url, service_url=service)

        assert first.returncode == 0, first.stderr
        assert '"database_created"' in first.stderr
        assert f'"applied": {len(bundled_migrations())}' in first.stderr
        assert second.returncode == 0, second.stderr
        assert '"applied": 0' in second.stderr
        assert await _grants(conn) == after_first
        assert await is_current(conn)
        applied = await conn.fetchval("SELECT count(*) FROM schema_migrations")
        assert applied == len(bundled_migrations())
    finally:
        await conn.close()
    as_service = await asyncpg.connect(service)
    try:
        await append(as_service, "s-1", 0, [new_event()])
        assert await stream_version(as_service, "s-1") == 1
    finally:
        await as_service.close()


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


def _as_login(url: str, login: str, password: str | None = None) -> str:
    parts = urlsplit(url)
    secret = f":{password}" if password else ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{login}{secret}@{host}"))


@pytest.fixture
async def new_login(postgres_url: str) -> AsyncIterator[str]:
    """A login name no role has yet; the role is dropped afterwards, if a test made it."""
    name = f"goals_test_login_{uuid.uuid4().hex[:10]}"
    yield name
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute(f"DROP ROLE IF EXISTS {name}")
    finally:
        await conn.close()


async def _password_of(conn: asyncpg.Connection, login: str) -> str | None:
    password: str | None = await conn.fetchval(
        "SELECT rolpassword FROM pg_authid WHERE rolname = $1", login
    )
    return password


async def test_an_operators_service_login_keeps_its_password_and_joins_the_service_role(
    empty_database_url: str, postgres_url: str, new_login: str
) -> None:
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f"CREATE ROLE {new_login} LOGIN PASSWORD 'set-by-the-operator'")
        before = await _password_of(admin, new_login)
        service = _as_login(empty_database_url, new_login, "another")

        migrated = _goals("migrate", database_url=empty_database_url, service_url=service)

        assert migrated.returncode == 0, migrated.stderr
        assert await _password_of(admin, new_login) == before
        assert await admin.fetchval("SELECT pg_has_role($1, $2, 'MEMBER')", new_login, APP)
    finally:
        await admin.close()


async def test_a_missing_service_login_is_made_with_the_password_its_url_carries(
    empty_database_url: str, postgres_url: str, new_login: str
) -> None:
    service = _as_login(empty_database_url, new_login, "from-the-url")

    migrated = _goals("migrate", database_url=empty_database_url, service_url=service)

    assert migrated.returncode == 0, migrated.stderr
    admin = await asyncpg.connect(postgres_url)
    try:
        made = await admin.fetchrow(
            "SELECT rolcanlogin, rolsuper, rolpassword IS NOT NULL AS has_password "
            "FROM pg_authid WHERE rolname = $1",
            new_login,
        )
        assert made is not None
        assert (made["rolcanlogin"], made["rolsuper"], made["has_password"]) == (True, False, True)
    finally:
        await admin.close()


async def test_migrate_warns_when_the_service_would_connect_as_a_superuser(
    empty_database_url: str,
) -> None:
    migrated = _goals("migrate", database_url=empty_database_url, service_url=empty_database_url)

    assert migrated.returncode == 0, migrated.stderr
    assert '"service_login_is_privileged"' in migrated.stderr


async def test_migrate_refuses_urls_that_name_two_databases(
    empty_database_url: str, postgres_url: str
) -> None:
    migrated = _goals("migrate", database_url=empty_database_url, service_url=postgres_url)

    assert migrated.returncode == 1
    assert "name different databases" in migrated.stderr


async def _until_waiting_for_a_lock(watcher: asyncpg.Connection, pid: int) -> None:
    async with asyncio.timeout(10):
        while not await watcher.fetchval(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
        ):
            pass


@pytest.mark.parametrize("step", ["create the role", "grant the membership"])
async def test_a_role_made_at_the_same_moment_by_another_migration_is_taken_as_made(
    postgres_url: str, new_login: str, step: str
) -> None:
    """Roles belong to the whole server: migrations of two databases may make one at once."""
    other = await asyncpg.connect(postgres_url)
    ours = await asyncpg.connect(postgres_url)
    try:
        if step == "grant the membership":
            await ours.execute(f"CREATE ROLE {new_login} LOGIN")
        other_transaction = other.transaction()
        await other_transaction.start()
        if step == "create the role":
            await other.execute(f"CREATE ROLE {new_login} LOGIN")
            ours_done = asyncio.create_task(ensure_role(ours, new_login, login=True))
        else:
            await other.execute(f"GRANT {APP} TO {new_login}")
            ours_done = asyncio.create_task(ensure_member(ours, APP, new_login))
        await _until_waiting_for_a_lock(other, ours.get_server_pid())
        await other_transaction.commit()

        made_by_us = await asyncio.wait_for(ours_done, 10)

        assert not made_by_us
        assert await ours.fetchval("SELECT count(*) FROM pg_roles WHERE rolname = $1", new_login)
    finally:
        await other.close()
        await ours.close()


async def test_a_database_migrated_before_the_roles_existed_passes_to_the_owner(
    empty_database_url: str,
) -> None:
    assert await create_database_if_missing(empty_database_url)
    earlier = bundled_migrations()[:3]
    conn = await asyncpg.connect(empty_database_url)
    try:
        # As releases before the roles migrated: as the login itself.
        await conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
            "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in earlier:
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )

        migrated = _goals("migrate", database_url=empty_database_url)

        assert migrated.returncode == 0, migrated.stderr
        owners = await conn.fetch(
            "SELECT DISTINCT relowner::regrole::text AS owner FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace ORDER BY 1"
        )
        assert [row["owner"] for row in owners] == [OWNER, PROJECTIONS]
    finally:
        await conn.close()
    as_service = await asyncpg.connect(tests.conftest.service_url(empty_database_url))
    try:
        await append(as_service, "s-1", 0, [new_event()])
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await as_service.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
    finally:
        await as_service.close()
