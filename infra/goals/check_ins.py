"""What the log holds of a goal's check-ins, for the decisions and totals that no fold keeps.

A goal's state keeps no list of its check-ins (domain/goals/state.py): a check-in's id is unique
in its goal, and a check-in is corrected at most once, by the log's index on check-in ids
(migration 0008, `events_check_in_once`); these statements read through the same index, so each
costs one look-up however long the goal's history. Only the totals a correction leaves read the
goal's check-ins one by one, and corrections are rare.
"""

from datetime import datetime
from uuid import UUID

import msgspec

from domain.goals.commands import CheckInOnRecord, GoalCommand, RecordCorrection, RecordProgress
from domain.goals.decider import already_corrected, check_in_exists
from domain.goals.events import CorrectionRecorded, ProgressRecorded
from domain.goals.progress import CountedCheckIn
from domain.goals.view import CheckInTotals
from infra.db.connection import Connection
from infra.eventstore.store import DuplicateFact
from infra.goals.streams import goal_stream

CHECK_IN_ONCE = "events_check_in_once"
"""The unique index that holds a check-in id once per goal and a check-in's correction once."""

_RECORDED = str(ProgressRecorded.__struct_config__.tag)
_CORRECTED = str(CorrectionRecorded.__struct_config__.tag)

# The index's own predicate, word for word, so that the planner can use it.
_ON_RECORD = f"""
SELECT event_type FROM events
WHERE stream_id = $1 AND data ->> 'check_in_id' = $2
    AND event_type IN ('{_RECORDED}', '{_CORRECTED}')
"""  # noqa: S608 - constant tags

# Summed in the order they were recorded and the first of equal latest moments, as
# `domain.goals.view.check_in_totals` does, so that both give the same figures to the bit.
_TOTALS = f"""
WITH counted AS (
    SELECT p.stream_version, (p.data ->> 'amount')::float8 AS amount,
        p.data ->> 'occurred_at' AS occurred_at
    FROM events p
    WHERE p.stream_id = $1 AND p.event_type = '{_RECORDED}' AND p.stream_version <= $2
        AND NOT EXISTS (
            SELECT FROM events c
            WHERE c.stream_id = $1 AND c.data ->> 'check_in_id' = p.data ->> 'check_in_id'
                AND c.event_type = '{_CORRECTED}' AND c.stream_version <= $2
        )
)
SELECT coalesce(sum(amount ORDER BY stream_version), 0) AS progress_total,
    count(*) AS check_in_count,
    (array_agg(occurred_at ORDER BY occurred_at::timestamptz DESC, stream_version))[1]
        AS last_check_in_at
FROM counted
"""  # noqa: S608 - constant tags


def rule_held_once(command: GoalCommand, duplicate: DuplicateFact) -> Exception:
    """The rule that the log's unique index stood for when it refused `command`'s event: a
    check-in's id taken by a retry that raced the first, or a check-in corrected meanwhile."""
    if duplicate.constraint == CHECK_IN_ONCE:
        if isinstance(command, RecordProgress):
            return check_in_exists()
        if isinstance(command, RecordCorrection):
            return already_corrected()
    return duplicate


# Each goal's check-ins up to a version, not entered in error by then, of a moment since a time.
_COUNTED_SINCE = f"""
SELECT r.n, (p.data ->> 'amount')::float8 AS amount, p.data ->> 'occurred_at' AS occurred_at
FROM unnest($1::text[], $2::integer[], $3::timestamptz[]) WITH ORDINALITY
    AS r (stream_id, upto, since, n)
JOIN events p ON p.stream_id = r.stream_id AND p.event_type = '{_RECORDED}'
    AND p.stream_version <= r.upto
WHERE (p.data ->> 'occurred_at')::timestamptz >= r.since
    AND NOT EXISTS (
        SELECT FROM events c
        WHERE c.stream_id = r.stream_id AND c.data ->> 'check_in_id' = p.data ->> 'check_in_id'
            AND c.event_type = '{_CORRECTED}' AND c.stream_version <= r.upto
    )
ORDER BY r.n, p.stream_version
"""  # noqa: S608 - constant tags


class CheckInsSince(msgspec.Struct, frozen=True):
    goal_id: UUID
    version: int
    since: datetime


async def counted_since(
    conn: Connection, wanted: list[CheckInsSince]
) -> dict[UUID, list[CountedCheckIn]]:
    """For each goal, its check-ins not entered in error as of `version`, from `since` on (for
    a goal's trend, `domain.goals.fhir.trend_since`), in one round trip."""
    rows = await conn.fetch(
        _COUNTED_SINCE,
        [goal_stream(item.goal_id) for item in wanted],
        [item.version for item in wanted],
        [item.since for item in wanted],
    )
    found: dict[UUID, list[CountedCheckIn]] = {item.goal_id: [] for item in wanted}
    for row in rows:
        moment = msgspec.convert(row["occurred_at"], datetime)
        found[wanted[row["n"] - 1].goal_id].append(CountedCheckIn(row["amount"], moment))
    return found


async def on_record(conn: Connection, goal_id: UUID, check_in_id: UUID) -> CheckInOnRecord:
    rows = await conn.fetch(_ON_RECORD, goal_stream(goal_id), str(check_in_id))
    kinds = {row["event_type"] for row in rows}
    return CheckInOnRecord(recorded=_RECORDED in kinds, corrected=_CORRECTED in kinds)


def corrected_check_in(command: GoalCommand) -> UUID | None:
    """The check-in that `command` corrects, if it corrects one."""
    if isinstance(command, RecordCorrection) and command.scope == "check_in":
        return command.check_in_id
    return None


async def with_on_record(conn: Connection, command: GoalCommand) -> GoalCommand:
    """`command`, with what the log holds of the check-in it corrects, if it corrects one."""
    check_in_id = corrected_check_in(command)
    if check_in_id is None:
        return command
    found = await on_record(conn, command.goal_id, check_in_id)
    return msgspec.structs.replace(command, on_record=found)


async def totals_at(conn: Connection, goal_id: UUID, version: int) -> CheckInTotals:
    """The totals of the goal's check-ins as its events up to `version` leave them."""
    row = await conn.fetchrow(_TOTALS, goal_stream(goal_id), version)
    if row is None:
        raise RuntimeError("an aggregate gives a row")
    latest = row["last_check_in_at"]
    return CheckInTotals(
        progress_total=float(row["progress_total"]),
        check_in_count=row["check_in_count"],
        last_check_in_at=None if latest is None else msgspec.convert(latest, datetime),
    )
