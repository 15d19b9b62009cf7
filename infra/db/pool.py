"""asyncpg pools and the one-off connections that administration needs."""

from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from infra.config import Settings


async def _keep_session(_: asyncpg.Connection) -> None:
    """Skips asyncpg's reset of a released connection (a round trip per use)."""


async def open_pool(
    settings: Settings,
    *,
    min_size: int | None = None,
    max_size: int | None = None,
    stateless: bool = False,
    server_settings: dict[str, str] | None = None,
) -> asyncpg.Pool:
    """A pool; `stateless` for users that never leave session state (settings, locks, LISTEN)
    on a connection, which then need no reset when it goes back to the pool."""
    return await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.database_pool_min if min_size is None else min_size,
        max_size=settings.database_pool_max if max_size is None else max_size,
        reset=_keep_session if stateless else None,
        server_settings=server_settings,
    )


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise SystemExit(f"DATABASE_URL names no database: {url}")
    return name


def login_of(url: str) -> tuple[str, str | None]:
    """The user name a URL connects as, and its password if the URL carries one."""
    parts = urlsplit(url)
    if not parts.username:
        raise SystemExit(f"a database URL names no user: {parts.hostname}{parts.path}")
    return unquote(parts.username), unquote(parts.password) if parts.password else None


async def create_database_if_missing(url: str) -> bool:
    """Creates the database that `url` names, if it does not exist yet; True if it did."""
    name = database_name(url)
    admin = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        quoted = await admin.fetchval("SELECT quote_ident($1)", name)
        try:
            await admin.execute(f"CREATE DATABASE {quoted}")
        except asyncpg.DuplicateDatabaseError:
            return False  # another process created it between our look and our create
        return True
    finally:
        await admin.close()


async def drop_database(url: str) -> None:
    name = database_name(url)
    admin = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        quoted = await admin.fetchval("SELECT quote_ident($1)", name)
        await admin.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        await admin.close()


async def clone_database(url: str, template: str) -> None:
    """Creates the database that `url` names as a copy of the `template` database."""
    admin = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        target = await admin.fetchval("SELECT quote_ident($1)", database_name(url))
        source = await admin.fetchval("SELECT quote_ident($1)", template)
        await admin.execute(f"CREATE DATABASE {target} TEMPLATE {source}")
    finally:
        await admin.close()


def url_for_database(url: str, database: str) -> str:
    return _with_database(url, database)
