"""Versioned SQL migrations: each file once, in its own transaction, with its checksum kept.

Files are named `NNNN_description.sql` and applied in order. A file that was applied and then
edited is refused, since the database no longer matches what the file says. They run as the
owner role (see `infra/db/roles.py`), so whatever they create belongs to it.
"""

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg
import structlog

from infra.db.connection import Connection
from infra.db.roles import APP, OWNER, hand_schema_to_owner, prepare_roles

log = structlog.get_logger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any constant works; it only has to be the same for every process that migrates.
_MIGRATION_LOCK = 7_140_001


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def bundled_migrations() -> list[Migration]:
    folder = resources.files("infra.db") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text()))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version: {versions}")
    return found


_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def pending(conn: Connection, migrations: list[Migration]) -> list[Migration]:
    """The migrations not yet applied; raises if an applied one was changed or is unknown."""
    applied = {
        row["version"]: row
        for row in await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
    }
    known = {migration.version for migration in migrations}
    unknown = sorted(set(applied) - known)
    if unknown:
        raise MigrationError(
            f"the database has migrations this release does not know: {unknown}; "
            "run a release at least as new as the one that applied them"
        )
    for migration in migrations:
        row = applied.get(migration.version)
        if row is not None and row["checksum"] != migration.checksum:
            raise MigrationError(
                f"migration {migration.name} was changed after it was applied "
                f"(applied as {row['name']}); restore the file and add a new migration instead"
            )
    return [migration for migration in migrations if migration.version not in applied]


async def migrate(
    conn: Connection,
    migrations: list[Migration] | None = None,
    *,
    app_login: str = APP,
    app_password: str | None = None,
) -> int:
    """Makes the roles ready and applies every pending migration as the owner; returns how many
    ran. `conn` is the migration login; `app_login` the role the service connects as (made with
    `app_password` if this creates it). Safe to run concurrently, on one database or several."""
    todo_from = bundled_migrations() if migrations is None else migrations
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await prepare_roles(conn, app_login, app_password)
        await hand_schema_to_owner(conn)
        await conn.execute(f"SET ROLE {OWNER}")
        await conn.execute(_LEDGER)
        todo = await pending(conn, todo_from)
        for migration in todo:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            log.info("migration_applied", migration=migration.name)
        return len(todo)
    finally:
        await conn.execute("RESET ROLE")
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)


async def is_current(conn: Connection) -> bool:
    try:
        return not await pending(conn, bundled_migrations())
    except (asyncpg.UndefinedTableError, MigrationError):
        return False
