"""Request-scoped providers: a connection in a transaction, and the authenticated caller."""

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
from services.api.auth import Authenticator, bearer_credentials
from services.api.errors import Problem


async def provide_connection(request: Request, state: State) -> AsyncGenerator[Connection, None]:
    """One connection and one transaction per request: everything it writes, or nothing."""
    pool: asyncpg.Pool = state.pool
    async with pool.acquire() as conn:
        async with conn.transaction():
            yield conn
        if request.method != "GET":
            # Committed: tell the relay there may be new events, without waiting for it.
            signal: AppendSignal = state.append_signal
            signal.appended()


async def provide_caller(request: Request, conn: "Db", state: State) -> Caller:
    authenticator: Authenticator = state.authenticator
    caller = await authenticator.authenticate(conn, bearer_credentials(request))
    if caller is None:
        raise Problem(401, "not_authenticated", "This token is unknown, expired or revoked.")
    request.state.actor_id = str(caller.user_id)
    return caller


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
