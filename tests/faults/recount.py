"""A recount of the projection from the log: each goal's events folded in version order, the
order every consumer must see them in, and the differences from what the tables hold."""

import json
from collections import defaultdict
from typing import Any
from uuid import UUID

import msgspec

from domain.goals.summary import CheckInChange, EventFacts, GoalSummary, check_in_change, summarize
from infra.db.connection import Connection
from infra.eventstore import codec
from infra.eventstore.store import read_streams
from infra.projections.goal_summaries import SUMMARY_COLUMNS, summary_row


def _recounted(events: list[Any]) -> tuple[GoalSummary | None, dict[UUID, CheckInChange], str]:
    summary: GoalSummary | None = None
    check_ins: dict[UUID, CheckInChange] = {}
    for recorded in events:
        event = codec.decode_event(recorded)
        facts = EventFacts(
            recorded.stream_version,
            recorded.position,
            recorded.recorded_at,
            recorded.metadata.clinic_id,
        )
        try:
            summary = summarize(summary, event, facts)
        except ValueError as error:
            return summary, check_ins, f"v{recorded.stream_version} cannot be folded: {error}"
        change = check_in_change(event)
        if change is None:
            continue
        if change.entered_in_error and change.check_in_id in check_ins:
            known = check_ins[change.check_in_id]
            check_ins[change.check_in_id] = msgspec.structs.replace(known, entered_in_error=True)
        elif not change.entered_in_error:
            check_ins.setdefault(change.check_in_id, change)
    return summary, check_ins, ""


def comparable_summary(row: tuple[Any, ...]) -> dict[str, Any]:
    values = dict(zip(SUMMARY_COLUMNS, row, strict=True))
    values["terms"] = json.loads(values["terms"])
    values["supporters"] = sorted(values["supporters"] or [])
    return values


async def recount_differences(conn: Connection) -> list[str]:
    """One line per goal whose summary or check-ins differ from its recount."""
    goal_streams = [
        row[0]
        for row in await conn.fetch("SELECT stream_id FROM streams WHERE stream_id LIKE 'goal-%'")
    ]
    streams = await read_streams(conn, goal_streams)
    columns = ", ".join(SUMMARY_COLUMNS)
    stored = {
        row["goal_id"]: comparable_summary(tuple(row))
        for row in await conn.fetch(f"SELECT {columns} FROM goal_summaries")
    }
    stored_check_ins: dict[UUID, dict[UUID, tuple[Any, ...]]] = defaultdict(dict)
    for row in await conn.fetch(
        "SELECT check_in_id, goal_id, amount, occurred_at, entered_in_error FROM goal_check_ins"
    ):
        stored_check_ins[row["goal_id"]][row["check_in_id"]] = tuple(row)[1:]
    differences = []
    for stream_id, events in sorted(streams.items()):
        goal_id = UUID(stream_id.removeprefix("goal-"))
        summary, check_ins, failure = _recounted(events)
        if failure:
            differences.append(f"goal {goal_id}: the recount itself stops: {failure}")
            continue
        assert summary is not None
        expected = {
            check_in_id: (
                change.goal_id,
                change.amount,
                change.occurred_at,
                change.entered_in_error,
            )
            for check_in_id, change in check_ins.items()
        }
        found = _goal_difference(
            comparable_summary(summary_row(summary)),
            stored.get(goal_id),
            expected,
            stored_check_ins.get(goal_id, {}),
        )
        if found:
            differences.append(f"goal {goal_id}: {found}")
    return differences


def _goal_difference(
    expected: dict[str, Any],
    actual: dict[str, Any] | None,
    expected_check_ins: dict[UUID, tuple[Any, ...]],
    actual_check_ins: dict[UUID, tuple[Any, ...]],
) -> str:
    """One line: how a goal's projection differs from its recount, or nothing."""
    if actual is None:
        return f"no summary row; the recount is at v{expected['version']}"
    differing = [name for name in SUMMARY_COLUMNS if actual[name] != expected[name]]
    missing = expected_check_ins.keys() - actual_check_ins.keys()
    extra = actual_check_ins.keys() - expected_check_ins.keys()
    changed = [
        key
        for key in expected_check_ins.keys() & actual_check_ins.keys()
        if expected_check_ins[key] != actual_check_ins[key]
    ]
    if not (differing or missing or extra or changed):
        return ""
    return (
        f"summary v{actual['version']} @{actual['last_position']} {actual['status']} "
        f"(stalled at {actual['stalled_at_version']}), recount v{expected['version']} "
        f"@{expected['last_position']} {expected['status']}; columns that differ: "
        f"{', '.join(differing) or 'none'}; check-ins: {len(missing)} missing, "
        f"{len(extra)} not in the log, {len(changed)} differ"
    )
