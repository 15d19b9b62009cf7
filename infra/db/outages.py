"""Telling an unreachable database from a bug, and saying so once per outage.

When PostgreSQL stops, restarts or freezes, asyncpg reports it in many ways, depending on where
the client was: a refused or reset socket (`OSError`) or a timeout while connecting; a connection
lost in the middle of a statement (`ConnectionDoesNotExistError`, SQLSTATE class 08); a server
that is starting, shutting down or full (`CannotConnectNowError`, `AdminShutdownError`,
`CrashShutdownError`, `TooManyConnectionsError`); a statement that outlived `command_timeout`
(`TimeoutError`) or `statement_timeout` (`QueryCanceledError`); a session the server ended for
idling in a transaction; and, for a connection that was already lost when it was used again,
an `InterfaceError` that says the connection (or the pool) is closed. All of these pass: the
same request succeeds once the server is back. Anything else (a wrong password, a database that
does not exist, a bad statement) does not, and stays an error.
"""

import os
import time

import asyncpg
import structlog
from asyncpg import exceptions as pg

log = structlog.get_logger(__name__)

_PASSING = (
    OSError,  # refused, reset, unreachable
    TimeoutError,  # asyncio's too, since Python 3.11
    pg.PostgresConnectionError,
    pg.CannotConnectNowError,
    pg.AdminShutdownError,
    pg.CrashShutdownError,
    pg.TooManyConnectionsError,
    pg.QueryCanceledError,
    pg.IdleInTransactionSessionTimeoutError,
)
# asyncpg's words for a connection, pool or statement used after its connection was lost.
_CLOSED = ("closed", "closing")


def unreachable(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says the database could not be reached in time."""
    seen: BaseException | None = error
    for _ in range(3):  # the error itself, and what it was raised from
        if seen is None:
            return False
        if isinstance(seen, _PASSING):
            return True
        if isinstance(seen, asyncpg.InterfaceError) and any(w in str(seen) for w in _CLOSED):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class Outage:
    """Whether a dependency is down, as one process has seen it: one line when an outage
    starts, one when it ends, however many requests or passes fail in between. The lines carry
    the process id, as a service of several processes says it once from each."""

    def __init__(self, dependency: str) -> None:
        self.dependency = dependency
        self._since: float | None = None
        self._failures = 0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        self._failures += 1
        if self._since is None:
            self._since = time.monotonic()
            log.warning(f"{self.dependency}_unavailable", error=describe(error), pid=os.getpid())

    def recovered(self) -> None:
        if self._since is None:
            return
        log.info(
            f"{self.dependency}_available_again",
            seconds=round(time.monotonic() - self._since, 3),
            failures=self._failures,
            pid=os.getpid(),
        )
        self._since = None
        self._failures = 0
