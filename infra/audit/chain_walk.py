"""Walking the log's hash chains, a range of streams at a time (domain/audit/chain.py).

Each walk reads its streams in (stream_id, stream_version) order through a server-side cursor, a
batch at a time, keeping only the event before and the first break: its memory does not grow
with the log. The log is cut into ranges of stream ids so that several connections walk it at
once, in one snapshot (infra/audit/verification.py): each event costs the database far more
(its jsonb written out as text) than it costs this process, and streams are independent.
"""

from collections.abc import Callable
from uuid import UUID

from domain.audit.chain import Break, Breaks, ChainLink, StreamWalk, head_break
from infra.db.connection import Connection

ROWS_PER_FETCH = 2_000

# The events of clinic $1 (all, when null): those of the streams whose first event names it.
_IN_SCOPE = """($1::text IS NULL OR e.stream_id IN (
    SELECT stream_id FROM events
    WHERE stream_version = 1
        AND coalesce(metadata ->> 'clinic_id', data ->> 'clinic_id') = $1::text
))"""

# `canonical` (domain/audit/chain.py) spelled by the database, in this query's own text: the
# verifier calls no function the database holds.
_WALK = f"""
SELECT e.position, e.stream_id, e.stream_version, e.previous_hash, e.hash, h.version AS head,
    convert_to(
        octet_length(e.position::text) || ':' || e.position::text || ','
        || octet_length(e.transaction_id::text) || ':' || e.transaction_id::text || ','
        || octet_length(e.stream_id) || ':' || e.stream_id || ','
        || octet_length(e.stream_version::text) || ':' || e.stream_version::text || ','
        || '36:' || e.event_id::text || ','
        || octet_length(e.event_type) || ':' || e.event_type || ','
        || octet_length(f.recorded) || ':' || f.recorded || ','
        || octet_length(f.data) || ':' || f.data || ','
        || octet_length(f.metadata) || ':' || f.metadata || ',', 'UTF8') AS content
FROM events e
CROSS JOIN LATERAL (
    SELECT (extract(epoch FROM e.recorded_at) * 1000000)::bigint::text AS recorded,
        e.data::text AS data, e.metadata::text AS metadata
) f
LEFT JOIN LATERAL (SELECT version FROM streams s WHERE s.stream_id = e.stream_id) h ON true
WHERE {_IN_SCOPE} AND e.stream_id >= $2::text AND ($3::text IS NULL OR e.stream_id < $3::text)
ORDER BY e.stream_id, e.stream_version
"""  # noqa: S608 - constant fragments

_EVENTS_IN_SCOPE = f"SELECT count(*) FROM events e WHERE {_IN_SCOPE}"  # noqa: S608

# Heads of streams that have no event left at all (the whole log only: such a stream names no
# clinic).
_EMPTY_HEADS = """
SELECT s.stream_id, s.version FROM streams s
WHERE NOT EXISTS (SELECT FROM events e WHERE e.stream_id = s.stream_id)
ORDER BY s.stream_id
"""

_RANGES = """
SELECT percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY stream_id) FROM streams
"""


def _scope(clinic_id: UUID | None) -> str | None:
    return None if clinic_id is None else str(clinic_id)


async def events_to_verify(conn: Connection, clinic_id: UUID | None) -> int:
    """How many events a verification of `clinic_id` (all, when None) walks now."""
    return int(await conn.fetchval(_EVENTS_IN_SCOPE, _scope(clinic_id)))


async def stream_ranges(conn: Connection, parts: int) -> list[tuple[str, str | None]]:
    """`parts` ranges of stream ids, [from, to), of about as many streams each (as the streams'
    heads count them), that together hold every stream id, whatever the heads say."""
    fractions = [part / parts for part in range(1, parts)]
    cuts = await conn.fetchval(_RANGES, fractions) if fractions else []
    # In the database's order, which its collation sets and Python's sort would not follow.
    bounds: list[str] = []
    for cut in cuts or []:
        if cut and (not bounds or cut != bounds[-1]):
            bounds.append(cut)
    starts = ["", *bounds]
    return list(zip(starts, [*bounds, None], strict=True))


async def walk_range(
    conn: Connection,
    clinic_id: UUID | None,
    streams: tuple[str, str | None],
    progress: Callable[[int], None] | None = None,
) -> tuple[Breaks, int]:
    """The breaks in the chains of the streams in `streams` ([from, to)) of `clinic_id`'s (all,
    when None), and how many events were walked; `progress` hears each batch's size."""
    breaks = Breaks()
    walk = StreamWalk()
    events = 0
    cursor = await conn.cursor(_WALK, _scope(clinic_id), *streams)
    while rows := await cursor.fetch(ROWS_PER_FETCH):
        for row in rows:
            link = ChainLink(
                row["position"],
                row["stream_id"],
                row["stream_version"],
                row["content"],
                row["previous_hash"],
                row["hash"],
                row["head"],
            )
            for found in walk.check(link):
                breaks.add(found)
        events += len(rows)
        if progress is not None:
            progress(len(rows))
    for found in walk.finish():
        breaks.add(found)
    return breaks, events


async def headless_breaks(conn: Connection) -> list[Break]:
    """A break for each stream head whose stream has no event left at all."""
    return [
        head_break(row["stream_id"], row["version"], 0, 0) for row in await conn.fetch(_EMPTY_HEADS)
    ]
