"""The goal summary projection (migration 0003): apply a goal's new events, once, in order.

A goal's row and its check-ins move in the same transaction as the version they reflect, so
running this twice, or on many workers at once, changes nothing the second time.
"""

from uuid import UUID

import asyncpg
import msgspec
import structlog

from domain.goals.summary import CheckInChange, EventFacts, GoalSummary, check_in_change, summarize
from domain.goals.terms import GoalTerms
from infra.db.connection import Connection
from infra.eventstore import codec
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import read_stream
from infra.goals.streams import goal_stream
from infra.projections.consumer import Progressed

log = structlog.get_logger(__name__)

_encode = msgspec.json.Encoder().encode
_decode_terms = msgspec.json.Decoder(GoalTerms).decode

# What `summary_from` reads, in its order; `stalled_at_version` comes last, for the applier.
SELECTED_COLUMNS = """goal_id, clinic_id, client_id, terms::text, status, set_at, version,
last_position, ended_at, last_check_in_at, attainment_rating, supporters, stalled_at_version"""


def summary_from(row: asyncpg.Record) -> GoalSummary:
    return GoalSummary(
        goal_id=row[0],
        clinic_id=row[1],
        client_id=row[2],
        terms=_decode_terms(row[3]),
        status=row[4],
        set_at=row[5],
        version=row[6],
        last_position=row[7],
        ended_at=row[8],
        last_check_in_at=row[9],
        attainment_rating=row[10],
        supporters=tuple(row[11]),
    )


SUMMARY_COLUMNS = [
    "goal_id", "clinic_id", "client_id", "statement", "life_area", "status", "measure_kind",
    "target", "unit", "cadence", "time_zone", "start_date", "due_date", "priority", "terms",
    "set_at", "ended_at", "last_check_in_at", "attainment_rating", "supporters", "version",
    "last_position", "stalled_at_version",
]  # fmt: skip
_FIXED = {"goal_id", "clinic_id", "client_id", "set_at"}
_UPSERT = (
    "INSERT INTO {summaries} ("  # noqa: S608 - constant names
    + ", ".join(SUMMARY_COLUMNS)
    + f") VALUES ({', '.join(f'${n}' for n in range(1, len(SUMMARY_COLUMNS) + 1))}) "
    "ON CONFLICT (goal_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in SUMMARY_COLUMNS if name not in _FIXED)
)


class ProjectionTables(msgspec.Struct, frozen=True):
    """The tables one copy of the projection lives in: the live ones, or a rebuild's fresh ones."""

    summaries: str
    check_ins: str
    dead_letters: str
    shared: bool
    """Whether other appliers write these tables at the same time (then goals take turns)."""


LIVE = ProjectionTables("goal_summaries", "goal_check_ins", "projection_dead_letters", shared=True)


def summary_row(summary: GoalSummary, stalled_at_version: int | None = None) -> tuple[object, ...]:
    """The summary as a row of `SUMMARY_COLUMNS`."""
    terms = summary.terms
    return (
        summary.goal_id,
        summary.clinic_id,
        summary.client_id,
        terms.statement,
        terms.life_area,
        summary.status,
        terms.measure.kind,
        terms.measure.target,
        terms.measure.unit,
        terms.measure.cadence,
        terms.time_zone,
        terms.start_date,
        terms.due_date,
        terms.priority,
        _encode(terms).decode(),
        summary.set_at,
        summary.ended_at,
        summary.last_check_in_at,
        summary.attainment_rating,
        list(summary.supporters),
        summary.version,
        summary.last_position,
        stalled_at_version,
    )


async def _save(conn: Connection, tables: ProjectionTables, summary: GoalSummary) -> None:
    await conn.execute(_UPSERT.format(summaries=tables.summaries), *summary_row(summary))


async def _save_check_ins(
    conn: Connection, tables: ProjectionTables, changes: list[CheckInChange]
) -> None:
    recorded = [
        (item.check_in_id, item.goal_id, item.amount, item.occurred_at)
        for item in changes
        if not item.entered_in_error
    ]
    if recorded:
        await conn.executemany(
            f"INSERT INTO {tables.check_ins} (check_in_id, goal_id, amount, occurred_at) "  # noqa: S608
            "VALUES ($1, $2, $3, $4) ON CONFLICT (check_in_id) DO NOTHING",
            recorded,
        )
    corrected = [(item.check_in_id,) for item in changes if item.entered_in_error]
    if corrected:
        await conn.executemany(
            f"UPDATE {tables.check_ins} SET entered_in_error = true WHERE check_in_id = $1",  # noqa: S608
            corrected,
        )


async def _dead_letter(
    conn: Connection,
    tables: ProjectionTables,
    goal_id: UUID,
    event: RecordedEvent,
    error: Exception,
) -> None:
    """Keeps the event that could not be applied, with why, once, and stalls its goal there."""
    await conn.execute(
        f"INSERT INTO {tables.dead_letters} (event_id, goal_id, position, error) "  # noqa: S608
        "VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
        event.event_id,
        goal_id,
        event.position,
        f"{type(error).__name__}: {error}",
    )
    await conn.execute(
        f"UPDATE {tables.summaries} SET stalled_at_version = $2 WHERE goal_id = $1",  # noqa: S608
        goal_id,
        event.stream_version,
    )
    log.error(
        "projection_event_failed",
        goal_id=str(goal_id),
        position=event.position,
        error=str(error),
    )


async def project_goal(
    conn: Connection, goal_id: UUID, tables: ProjectionTables = LIVE
) -> Progressed:
    """Applies the goal's events not yet in its summary; safe to run twice or concurrently.

    The summary's version says where to go on from, so the events are read from the goal's own
    stream in version order, whatever order the feed delivered the goal in.
    """
    async with conn.transaction():
        if tables.shared:
            # One applier per goal at a time: the second waits, then finds nothing left to do.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", str(goal_id)
            )
        row = await conn.fetchrow(
            f"SELECT {SELECTED_COLUMNS} FROM {tables.summaries} WHERE goal_id = $1",  # noqa: S608
            goal_id,
        )
        if row is not None and row["stalled_at_version"] is not None:
            return Progressed(0, stalled=True)
        summary = None if row is None else summary_from(row)
        pending = await read_stream(conn, goal_stream(goal_id), summary.version if summary else 0)
        changes: list[CheckInChange] = []
        applied = 0
        for recorded in pending:
            try:
                event = codec.decode_event(recorded)
                facts = EventFacts(
                    recorded.stream_version,
                    recorded.position,
                    recorded.recorded_at,
                    recorded.metadata.clinic_id,
                )
                next_summary = summarize(summary, event, facts)
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as error:
                if summary is not None:
                    await _save(conn, tables, summary)
                    await _save_check_ins(conn, tables, changes)
                await _dead_letter(conn, tables, goal_id, recorded, error)
                return Progressed(applied, stalled=True)
            summary = next_summary
            if change := check_in_change(event):
                changes.append(change)
            applied += 1
        if summary is not None and applied:
            await _save(conn, tables, summary)
            await _save_check_ins(conn, tables, changes)
        return Progressed(applied)
