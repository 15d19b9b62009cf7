"""asyncpg pools and the one-off connections that administration needs."""

import asyncio
import logging
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg
import structlog

from infra.config import Settings
from infra.db.outages import describe, unreachable

log = structlog.get_logger(__name__)

# asyncpg logs a traceback each time it fails to restore a pool's floor of connections, with a
# backoff, for as long as the server is down; the service says once that it is (see outages.py).
logging.getLogger("asyncpg.pool").setLevel(logging.ERROR)


async def _keep_session(_: asyncpg.Connection) -> None:
    """Skips asyncpg's reset of a released connection (a round trip per use)."""


def time_limits(settings: Settings) -> dict[str, str]:
    """The server's own limits for a session of the service, in milliseconds."""
    return {
        "statement_timeout": str(round(settings.database_statement_timeout_seconds * 1000)),
        "idle_in_transaction_session_timeout": str(
            round(settings.database_idle_in_transaction_timeout_seconds * 1000)
        ),
    }


# Every statement of the service is short. PostgreSQL compiles a statement with JIT when its
# plan's estimated cost passes `jit_above_cost`, which costs 20-300 ms, far more than running
# it: and estimates run high exactly where statistics are missing or stale (a log not yet
# analyzed makes every stream look long), so a few-millisecond check-in paid for a compilation.
_NO_JIT = {"jit": "off"}


async def open_pool(
    settings: Settings,
    *,
    min_size: int | None = None,
    max_size: int | None = None,
    stateless: bool = False,
    server_settings: dict[str, str] | None = None,
) -> asyncpg.Pool:
    """A pool, with every time limit of the settings; `stateless` for users that never leave
    session state (settings, locks, LISTEN) on a connection, which then need no reset when it
    goes back to the pool.

    It opens whether or not the database answers: a process must start, and then serve 503s,
    during an outage, rather than fail its start (a supervisor would only start it again, or
    give up). When the database cannot be reached, the pool opens empty and connects as it is
    used; any other failure (a wrong password, a database that does not exist) is raised.
    """
    options: dict[str, Any] = {
        "min_size": settings.database_pool_min if min_size is None else min_size,
        "max_size": settings.database_pool_max if max_size is None else max_size,
        "reset": _keep_session if stateless else None,
        "server_settings": time_limits(settings) | _NO_JIT | (server_settings or {}),
        "command_timeout": settings.database_command_timeout_seconds,
        # Opening a connection: asyncpg's own default waits a minute on a frozen server.
        "timeout": settings.database_acquire_timeout_seconds,
    }
    try:
        return await asyncpg.create_pool(settings.database_url, **options)
    except Exception as error:
        if not unreachable(error):
            raise
        log.warning("database_unavailable_at_start", error=describe(error))
    # asyncpg opens `min_size` connections before it hands a pool over: an empty pool keeps no
    # floor, and opens connections as they are asked for.
    return await asyncpg.create_pool(settings.database_url, **options | {"min_size": 0})


async def close_pool(pool: asyncpg.Pool, within: float) -> None:
    """Closes gracefully if the server answers in time, else drops the connections."""
    try:
        await asyncio.wait_for(pool.close(), within)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        pool.terminate()


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
