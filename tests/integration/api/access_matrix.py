"""Checking an access matrix through HTTP: tables of expected statuses, problem bodies, the
database's footprint (what a request wrote), and which way a write went to the database."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields

import asyncpg
import pytest
from httpx import Response

from infra.db.connection import Connection
from infra.eventstore.envelope import AppendResult, NewEvent
from infra.goals.check_ins_at_once import AttemptOutcome, CheckInAttempt
from services.api.goals.store import GoalStore

PROBLEM_JSON = "application/problem+json"

ERROR_CODES = {401: "not_authenticated", 403: "forbidden", 404: "not_found"}


def parse_table(table: str) -> dict[str, dict[str, int]]:
    """A table of expected statuses: a header row of columns, then one row per caller."""
    header, *rows = (line.split() for line in table.strip().splitlines())
    columns = header[1:]
    parsed: dict[str, dict[str, int]] = {}
    for caller, *statuses in rows:
        if len(statuses) != len(columns) or caller in parsed:
            raise ValueError(f"malformed row for {caller!r}")
        parsed[caller] = {
            column: int(status) for column, status in zip(columns, statuses, strict=True)
        }
    return parsed


def assert_problem(response: Response, status: int, code: str) -> None:
    """An RFC 9457 problem with the given status and stable code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = response.json()
    assert body["status"] == status, body
    assert body["code"] == code, body
    assert body["type"], body
    assert body["title"], body


@dataclass(frozen=True)
class Footprint:
    """Counts that move whenever anything is written: two equal footprints mean nothing was."""

    events: int = 0
    stream_versions: int = 0
    users: int = 0
    tokens: int = 0
    live_tokens: int = 0
    care_team: int = 0
    idempotency_keys: int = 0
    invitations: int = 0

    def __sub__(self, earlier: "Footprint") -> "Footprint":
        return Footprint(
            **{
                field.name: getattr(self, field.name) - getattr(earlier, field.name)
                for field in fields(self)
            }
        )


NOTHING_WRITTEN = Footprint()


async def footprint(pool: asyncpg.Pool) -> Footprint:
    row = await pool.fetchrow(
        """
        SELECT
            (SELECT count(*) FROM events) AS events,
            (SELECT coalesce(sum(version), 0) FROM streams) AS stream_versions,
            (SELECT count(*) FROM users) AS users,
            (SELECT count(*) FROM access_tokens) AS tokens,
            (SELECT count(*) FROM access_tokens WHERE revoked_at IS NULL) AS live_tokens,
            (SELECT count(*) FROM care_team) AS care_team,
            (SELECT count(*) FROM idempotency_keys) AS idempotency_keys,
            (SELECT count(*) FROM invitations) AS invitations
        """
    )
    assert row is not None
    return Footprint(**{key: int(value) for key, value in row.items()})


@dataclass
class StoreCalls:
    """What requests asked of the app's goal store, which says the way their writes went:
    appends that shared a round trip with other requests' (the default), check-ins that went
    in with their read in one statement, and connections of their own (for a transaction: an
    `Idempotency-Key`, or a retry queued behind a contended goal). Writes of the routes that
    take the request's connection (setting a goal, sharing it) show in none of them."""

    shared_appends: int = 0
    one_trip_appends: int = 0
    own_connections: int = 0


SHARED_ROUND_TRIP = StoreCalls(shared_appends=1)
ONE_TRIP = StoreCalls(one_trip_appends=1)
OWN_CONNECTION = StoreCalls(own_connections=1)
REQUEST_CONNECTION = StoreCalls()


def record_store_calls(store: GoalStore, monkeypatch: pytest.MonkeyPatch) -> StoreCalls:
    """Counts, until the test ends, the calls to `store` that carried a write."""
    calls = StoreCalls()
    append, check_in_at_once, connection = (
        store.append,
        store.check_in_at_once,
        store.connection,
    )

    async def appending(stream_id: str, expected: int, events: list[NewEvent]) -> AppendResult:
        appended = await append(stream_id, expected, events)
        calls.shared_appends += 1
        return appended

    async def checking_in(attempt: CheckInAttempt) -> AttemptOutcome:
        outcome = await check_in_at_once(attempt)
        calls.one_trip_appends += outcome.appended is not None
        return outcome

    @asynccontextmanager
    async def connecting() -> AsyncIterator[Connection]:
        calls.own_connections += 1
        async with connection() as conn:
            yield conn

    monkeypatch.setattr(store, "append", appending)
    monkeypatch.setattr(store, "check_in_at_once", checking_in)
    monkeypatch.setattr(store, "connection", connecting)
    return calls
