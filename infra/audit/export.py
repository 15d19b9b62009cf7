"""The audit export: the events and access records of a time range as NDJSON, streamed with
bounded memory.

Server-side cursors, one after the other, in one read-only REPEATABLE READ transaction: the
export is a single snapshot of the logs however long it takes, and the process holds one batch
of rows at a time, whatever the range. PostgreSQL writes each line itself
(`json_build_object`), so Python only joins a batch's lines.

Each line is one record: first the events, `{"kind": "event", ...}`, in the order
(recorded_at, position); then the access log's records of the same range, `{"kind": "access",
...}` (infra/audit/export_access.py), in the order (recorded_at, id). The last line,
`{"kind": "end", "records": N, "events": E, "access_records": A}`, says the export is whole: an
export cut short (a dropped connection, a server stopping) has no such line.

Each event carries its `hash` and `previous_hash`, its place in its stream's hash chain;
access records are not chained.
"""

from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from uuid import UUID

import msgspec

from infra.audit.export_access import ACCESS_COUNT, ACCESS_LINES
from infra.db.connection import Connection

EXPORT_BATCH_ROWS = 1_000
"""Rows per round trip: the most the process holds of an export at once."""

_EVENT_LINES = """
SELECT json_build_object(
    'kind', 'event',
    'position', position,
    'stream_id', stream_id,
    'stream_version', stream_version,
    'event_id', event_id,
    'event_type', event_type,
    'recorded_at', recorded_at,
    'clinic_id', coalesce(metadata ->> 'clinic_id', data ->> 'clinic_id'),
    'data', data,
    'metadata', metadata,
    -- The tamper-evidence chain's place: the event's own hash and the one it links to.
    'hash', encode(hash, 'hex'),
    'previous_hash', encode(previous_hash, 'hex')
)::text AS line
FROM events
WHERE recorded_at >= $1 AND recorded_at < $2
  AND ($3::text IS NULL OR coalesce(metadata ->> 'clinic_id', data ->> 'clinic_id') = $3::text)
ORDER BY recorded_at, position
"""

_EVENT_COUNT = """
SELECT count(*) FROM events
WHERE recorded_at >= $1 AND recorded_at < $2
  AND ($3::text IS NULL OR coalesce(metadata ->> 'clinic_id', data ->> 'clinic_id') = $3::text)
"""


class ExportRange(msgspec.Struct, frozen=True):
    """Events recorded from `start` (included) to `end` (excluded), of one clinic (events of
    the clinic's people and goals) or, for an operator, of all (`clinic_id` None)."""

    start: datetime
    end: datetime
    clinic_id: UUID | None


def _arguments(selected: ExportRange) -> tuple[datetime, datetime, str | None]:
    clinic = None if selected.clinic_id is None else str(selected.clinic_id)
    return selected.start, selected.end, clinic


async def export_size(conn: Connection, selected: ExportRange) -> int:
    """How many records (events and access records) the export of `selected` holds now (for a
    progress bar)."""
    events = await conn.fetchval(_EVENT_COUNT, *_arguments(selected))
    accesses = await conn.fetchval(ACCESS_COUNT, *_arguments(selected))
    return int(events) + int(accesses)


async def export_lines(
    conn: Connection,
    selected: ExportRange,
    *,
    batch_rows: int = EXPORT_BATCH_ROWS,
    progress: Callable[[int], None] | None = None,
) -> AsyncGenerator[bytes, None]:
    """The export as chunks of whole NDJSON lines, one batch of rows per chunk.

    `progress` hears the number of records written so far after each batch."""
    written: dict[str, int] = {}
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        for kind, lines in (("events", _EVENT_LINES), ("access_records", ACCESS_LINES)):
            written[kind] = 0
            cursor = await conn.cursor(lines, *_arguments(selected))
            while rows := await cursor.fetch(batch_rows):
                written[kind] += len(rows)
                yield "".join(f"{row['line']}\n" for row in rows).encode()
                if progress is not None:
                    progress(sum(written.values()))
    end = {"kind": "end", "records": sum(written.values()), **written}
    yield msgspec.json.encode(end) + b"\n"
