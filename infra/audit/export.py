"""The audit export: the events of a time range as NDJSON, streamed with bounded memory.

One server-side cursor in one read-only REPEATABLE READ transaction: the export is a single
snapshot of the log however long it takes, and the process holds one batch of rows at a time,
whatever the range. PostgreSQL writes each line itself (`json_build_object`), so Python only
joins a batch's lines.

Each line is one record, `{"kind": "event", ...}`, in the order (recorded_at, position); the
last line, `{"kind": "end", "records": N}`, says the export is whole: an export cut short (a
dropped connection, a server stopping) has no such line.

Access records (the access log) are to follow the events in the same stream once that log
exists; the tamper-evidence chain will fill `hash` and `previous_hash`, null until then.
"""

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from uuid import UUID

import msgspec

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
    """How many events the export of `selected` holds now (for a progress bar)."""
    return int(await conn.fetchval(_EVENT_COUNT, *_arguments(selected)))


async def export_lines(
    conn: Connection,
    selected: ExportRange,
    *,
    batch_rows: int = EXPORT_BATCH_ROWS,
    progress: Callable[[int], None] | None = None,
) -> AsyncIterator[bytes]:
    """The export as chunks of whole NDJSON lines, one batch of rows per chunk.

    `progress` hears the number of records written so far after each batch."""
    written = 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = await conn.cursor(_EVENT_LINES, *_arguments(selected))
        while rows := await cursor.fetch(batch_rows):
            written += len(rows)
            yield "".join(f"{row['line']}\n" for row in rows).encode()
            if progress is not None:
                progress(written)
    yield msgspec.json.encode({"kind": "end", "records": written}) + b"\n"
