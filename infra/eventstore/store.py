"""Append to and read from the PostgreSQL event log (migration 0001)."""

from collections.abc import Sequence
from functools import partial
from uuid import UUID

import asyncpg
import msgspec

from infra.db.batches import one_per_key
from infra.db.connection import Connection
from infra.eventstore.envelope import (
    AppendResult,
    FeedCheckpoint,
    Metadata,
    NewEvent,
    RecordedEvent,
    StoredPosition,
)


class WrongExpectedVersion(Exception):
    """The stream moved on since the writer read it; `actual_version` is where it is now."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int) -> None:
        super().__init__(
            f"stream {stream_id} is at version {actual_version}, not {expected_version}"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class EventIdConflict(Exception):
    """Some of the event ids are already stored, but not as this exact append."""


class DuplicateFact(Exception):
    """An event repeats a fact that a unique index over the events' data holds once (a check-in's
    id in its goal, say: migration 0008); `constraint` names the index. Nothing was appended."""

    def __init__(self, constraint: str | None) -> None:
        super().__init__(f"an event repeats a fact held once by {constraint}")
        self.constraint = constraint


# The log's own keys; a violation of any other unique index is a `DuplicateFact`.
_LOG_KEYS = frozenset({"events_event_id_key", "events_stream_version"})


INSERT_EVENTS = (
    "INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)"
)
"""The head of every statement that appends: the columns a writer gives."""


def heads_locked_in_order(streams: str) -> str:
    """A CTE, `locked`: the existing heads of the streams that `streams` (a query) names, locked
    in the order of their stream ids before any of them moves, so that two statements naming the
    same streams in other orders queue one behind the other instead of deadlocking."""
    return f"""locked AS MATERIALIZED (
    SELECT stream_id FROM streams WHERE stream_id IN ({streams})
    ORDER BY stream_id
    FOR NO KEY UPDATE
)"""  # noqa: S608 - constant fragments


def _head_moved(added: str) -> str:
    """A CTE, `head`: stream $1's head, moved by `added` events from version $2 (or created,
    from 0), or no row if it is not at $2. The conditional upsert admits exactly one writer per
    expected version: a concurrent writer waits for the row lock, then sees the new version and
    moves nothing."""
    return f"""head AS (
    INSERT INTO streams AS s (stream_id, version) VALUES ($1, $2 + {added})
    ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version WHERE s.version = $2
    RETURNING version
)"""  # noqa: S608 - constant fragments


# One statement: the events go in only if the head moved.
_APPEND = f"""
WITH {_head_moved("cardinality($3::uuid[])")}
{INSERT_EVENTS}
SELECT $1, $2 + n.ordinality, n.event_id, n.event_type, n.data::jsonb, n.metadata::jsonb
FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[])
    WITH ORDINALITY AS n (event_id, event_type, data, metadata, ordinality)
WHERE EXISTS (SELECT FROM head)
ORDER BY n.ordinality  -- each event's hash links to the one before (migration 0015)
RETURNING position, stream_version
"""  # noqa: S608 - constant fragments

# The same for the common single event, with scalar parameters: unnest and its arrays cost
# about a third of the statement's time when there is only one row.
_APPEND_ONE = f"""
WITH {_head_moved("1")}
{INSERT_EVENTS}
SELECT $1, $2 + 1, $3, $4, $5::jsonb, $6::jsonb
WHERE EXISTS (SELECT FROM head)
RETURNING position, stream_version
"""  # noqa: S608 - constant fragments

_ALREADY_STORED = """
SELECT event_id, stream_id, position, stream_version FROM events WHERE event_id = ANY($1::uuid[])
"""

_encode_metadata = msgspec.json.Encoder().encode


def metadata_json(metadata: Metadata) -> str:
    return _encode_metadata(metadata).decode()


_decode_metadata = msgspec.json.Decoder(Metadata).decode


async def append(
    conn: Connection,
    stream_id: str,
    expected_version: int,
    events: Sequence[NewEvent],
) -> AppendResult:
    """Appends `events` after `expected_version` (0 for a new stream), atomically.

    Re-sending events whose ids were already appended, as one call, returns their original
    positions and writes nothing, whatever the stream's version is by now.
    """
    if not events:
        raise ValueError("nothing to append")
    event_ids = [event.event_id for event in events]
    try:
        if len(events) == 1:
            (event,) = events
            rows = await conn.fetch(
                _APPEND_ONE,
                stream_id,
                expected_version,
                event.event_id,
                event.event_type,
                event.data,
                metadata_json(event.metadata),
            )
        else:
            rows = await conn.fetch(
                _APPEND,
                stream_id,
                expected_version,
                event_ids,
                [event.event_type for event in events],
                [event.data for event in events],
                [metadata_json(event.metadata) for event in events],
            )
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name not in _LOG_KEYS:
            raise DuplicateFact(error.constraint_name) from error
        # The stream was at the expected version, yet an event id is taken: a command run again
        # on the stream its first run left (by a process that folded the goal afresh, say), or
        # a caller bug. Outside a transaction we can look; inside one, it is now aborted.
        if conn.is_in_transaction():
            raise EventIdConflict(f"an event id is already stored: {error.detail}") from error
        return await _replay_or_conflict(conn, stream_id, expected_version, event_ids)
    if rows:
        return AppendResult(tuple(_stored(row) for row in rows))
    return await _replay_or_conflict(conn, stream_id, expected_version, event_ids)


# Many appends, to distinct streams, in one statement and so one transaction: each stream's head
# moves only from the version its writer expects (an existing head by a conditional update, a new
# one by an insert that yields to a concurrent creator), and each append's events go in only if
# its head moved. Positions follow the order the appends came in.
_APPEND_BATCH = f"""
WITH input AS (
    SELECT * FROM unnest(
        $1::text[], $2::integer[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::integer[]
    ) WITH ORDINALITY AS i (stream_id, expected_version, event_id, event_type, data, metadata,
        ordinal, n)
), heads AS (
    SELECT stream_id, expected_version, max(ordinal) AS added FROM input
    GROUP BY stream_id, expected_version
), {heads_locked_in_order("SELECT stream_id FROM heads")}, moved AS (
    UPDATE streams s SET version = h.expected_version + h.added
    FROM heads h JOIN locked USING (stream_id)
    WHERE s.stream_id = h.stream_id AND s.version = h.expected_version
    RETURNING s.stream_id
), created AS (
    INSERT INTO streams (stream_id, version)
    SELECT stream_id, added FROM heads WHERE expected_version = 0
    ON CONFLICT (stream_id) DO NOTHING
    RETURNING stream_id
)
{INSERT_EVENTS}
SELECT i.stream_id, i.expected_version + i.ordinal, i.event_id, i.event_type, i.data::jsonb,
    i.metadata::jsonb
FROM input i
WHERE i.stream_id IN (SELECT stream_id FROM moved UNION ALL SELECT stream_id FROM created)
ORDER BY i.n
RETURNING stream_id, position, stream_version
"""  # noqa: S608 - constant fragments


class PendingAppend(msgspec.Struct, frozen=True):
    stream_id: str
    expected_version: int
    events: Sequence[NewEvent]


async def append_batch(
    conn: Connection, appends: list[PendingAppend]
) -> list[AppendResult | Exception]:
    """Each append as `append` would make it, but together: one result or error per append.

    Appends to a stream already in the batch wait for a later statement. If the statement fails
    (an event id already taken, or a deadlock with another batch creating the same new streams),
    nothing of it was written, and each append is made on its own, so that only the one at fault
    fails.
    """
    return await one_per_key(appends, _stream_of, partial(_append_round, conn))


def _stream_of(pending: PendingAppend) -> str:
    return pending.stream_id


async def _append_round(
    conn: Connection, appends: list[PendingAppend]
) -> list[AppendResult | Exception]:
    if len(appends) == 1:
        return [await _append_alone(conn, appends[0])]  # the single-stream statement is cheaper
    try:
        return await _append_together(conn, appends)
    except asyncpg.PostgresError:
        return [await _append_alone(conn, pending) for pending in appends]


async def _append_together(
    conn: Connection, appends: list[PendingAppend]
) -> list[AppendResult | Exception]:
    flat = [
        (pending, ordinal, event)
        for pending in appends
        for ordinal, event in enumerate(pending.events, start=1)
    ]
    rows = await conn.fetch(
        _APPEND_BATCH,
        [pending.stream_id for pending, _, _ in flat],
        [pending.expected_version for pending, _, _ in flat],
        [event.event_id for _, _, event in flat],
        [event.event_type for _, _, event in flat],
        [event.data for _, _, event in flat],
        [metadata_json(event.metadata) for _, _, event in flat],
        [ordinal for _, ordinal, _ in flat],
    )
    stored: dict[str, list[StoredPosition]] = {}
    for row in rows:
        stored.setdefault(row["stream_id"], []).append(_stored(row))
    results: list[AppendResult | Exception] = []
    for pending in appends:
        if pending.stream_id in stored:
            results.append(AppendResult(tuple(stored[pending.stream_id])))
            continue
        event_ids = [event.event_id for event in pending.events]
        try:
            results.append(
                await _replay_or_conflict(
                    conn, pending.stream_id, pending.expected_version, event_ids
                )
            )
        except (WrongExpectedVersion, EventIdConflict) as error:
            results.append(error)
    return results


async def _append_alone(conn: Connection, pending: PendingAppend) -> AppendResult | Exception:
    try:
        return await append(conn, pending.stream_id, pending.expected_version, pending.events)
    except Exception as error:  # the error belongs to this append's writer alone
        return error


async def _replay_or_conflict(
    conn: Connection, stream_id: str, expected_version: int, event_ids: list[UUID]
) -> AppendResult:
    found = {row["event_id"]: row for row in await conn.fetch(_ALREADY_STORED, event_ids)}
    if not found:
        actual = await stream_version(conn, stream_id)
        raise WrongExpectedVersion(stream_id, expected_version, actual)
    same_append = len(found) == len(event_ids) and all(
        row["stream_id"] == stream_id for row in found.values()
    )
    if not same_append:
        raise EventIdConflict(f"event ids already stored elsewhere in {stream_id} or another")
    stored = [_stored(found[event_id]) for event_id in event_ids]
    return AppendResult(tuple(stored), replayed=True)


async def stream_version(conn: Connection, stream_id: str) -> int:
    version = await conn.fetchval("SELECT version FROM streams WHERE stream_id = $1", stream_id)
    return int(version or 0)


EVENT_COLUMNS = """position, transaction_id, stream_id, stream_version, event_id, event_type,
data::text, metadata::text, recorded_at"""


def recorded_event(row: asyncpg.Record) -> RecordedEvent:
    """An event from a row that has `EVENT_COLUMNS`, by their names."""
    return RecordedEvent(
        position=row["position"],
        transaction_id=row["transaction_id"],
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        data=row["data"],
        metadata=_decode_metadata(row["metadata"]),
        recorded_at=row["recorded_at"],
    )


def _stored(row: asyncpg.Record) -> StoredPosition:
    return StoredPosition(row["position"], row["stream_version"])


async def read_stream(
    conn: Connection, stream_id: str, after_version: int = 0
) -> list[RecordedEvent]:
    rows = await conn.fetch(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2 "  # noqa: S608
        "ORDER BY stream_version",
        stream_id,
        after_version,
    )
    return [recorded_event(row) for row in rows]


async def read_streams(conn: Connection, stream_ids: list[str]) -> dict[str, list[RecordedEvent]]:
    """Several whole streams in one round trip."""
    rows = await conn.fetch(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ANY($1::text[]) "  # noqa: S608
        "ORDER BY stream_id, stream_version",
        stream_ids,
    )
    found: dict[str, list[RecordedEvent]] = {}
    for row in rows:
        found.setdefault(row["stream_id"], []).append(recorded_event(row))
    return found


# Why the global feed is fenced by transaction ids, not read by position.
#
# Positions come from a sequence and are handed out when a row is inserted, but rows become
# visible when their transaction commits. A transaction that took position 10 may commit after
# one that took position 11; a reader that had seen 11 and then asks for "position > 11" never
# sees 10. Such a gap is not a hole to wait out either: position 10 may have been rolled back.
#
# Instead the feed is ordered by (transaction id, position) and shows only rows written by
# transactions older than the oldest one still running, `pg_snapshot_xmin(pg_current_snapshot())`.
# Every transaction below that fence has ended, so its rows are all visible or all gone, and every
# transaction that ends later has an id at or above the fence, so it sorts after anything already
# read. A reader therefore never passes over an event that commits later. The price: one long
# open writing transaction holds the feed back until it ends, so writers keep transactions short.
#
# What the order is not: the order of commits, nor, within one stream, the order of versions. A
# transaction takes its id at its first write, and some write something before they move a
# stream's head (an idempotency key; a batch, another stream's head), so version 3 of a goal can
# carry an older id than version 2 and come first. Consumers therefore use the feed only to learn
# which streams moved, and read each stream from the version they have stored
# (docs/event-log.md, "Consumers").
_READ_ALL = f"""
SELECT {EVENT_COLUMNS} FROM events
WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY transaction_id, position
LIMIT $3
"""  # noqa: S608


async def read_all(
    conn: Connection, after: FeedCheckpoint, limit: int = 500
) -> list[RecordedEvent]:
    """The next events of the global feed after `after`, in the order of their transactions'
    ids: every committed event once, none passed over, in no stream's version order."""
    rows = await conn.fetch(_READ_ALL, after.transaction_id, after.position, limit)
    return [recorded_event(row) for row in rows]


def checkpoint_of(event: RecordedEvent) -> FeedCheckpoint:
    return FeedCheckpoint(event.transaction_id, event.position)
