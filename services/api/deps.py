"""Request-scoped providers: a connection (in a transaction for writes), and the caller."""

from collections.abc import AsyncGenerator
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from domain.access.policy import Caller
from infra.config import Settings
from infra.db.connection import Connection
from infra.eventstore.signal import AppendSignal
from services.api.auth import Authenticator, authenticated, request_credentials

ONE_STATEMENT_WRITES = "one_statement_writes"
"""Route option: each write the route makes is one statement, atomic by itself."""


async def provide_connection(request: Request, state: State) -> AsyncGenerator[Connection, None]:
    """One connection per request, and one transaction for its writes: everything or nothing.

    Reads need no transaction (each statement sees what is committed when it runs), nor do
    writes of one statement: for those the BEGIN and COMMIT would be two round trips for nothing.
    """
    pool: asyncpg.Pool = state.pool
    settings: Settings = state.settings
    async with pool.acquire(timeout=settings.database_acquire_timeout_seconds) as conn:
        if request.method == "GET" or request.route_handler.opt.get(ONE_STATEMENT_WRITES):
            yield conn
        else:
            async with conn.transaction():
                yield conn
        if request.method != "GET":
            # Committed: tell the relay there may be new events, without waiting for it.
            signal: AppendSignal = state.append_signal
            signal.appended()


async def provide_caller(request: Request, conn: "Db", state: State) -> Caller:
    authenticator: Authenticator = state.authenticator
    return authenticated(
        request, await authenticator.authenticate(conn, request_credentials(request))
    )


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_correlation_id(request: Request) -> str:
    return str(request.state.correlation_id)


# Litestar injects by parameter name; these aliases say so explicitly and name the runtime type
# it checks (a pool's connection, whatever query modules accept).
Db: TypeAlias = NamedDependency[PoolConnectionProxy]
Authenticated: TypeAlias = NamedDependency[Caller]
CorrelationId: TypeAlias = NamedDependency[str]
AppSettings: TypeAlias = NamedDependency[Settings]
