"""The pieces of a client's record, one goal at a time: as the JSON API's words, or as FHIR
resources (the Goal, a Provenance per event, an Observation per check-in)."""

from datetime import UTC, datetime
from uuid import UUID

import msgspec

from domain.access.policy import GoalAccess
from domain.goals.all_check_ins import all_check_ins
from domain.goals.fhir import goal_resource
from domain.goals.fhir_record import check_in_observation, provenance
from domain.goals.progress import local_day
from domain.goals.record import goal_record
from domain.goals.view import CheckIn, goal_detail
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.goals import codec
from infra.goals.fhir_reads import stamp_of
from infra.goals.loaded import loaded_from
from services.api.goals.access import full_goal
from services.api.goals.history import history_entries
from services.api.goals.schemas import GoalOut, HistoryEntry


class GoalInRecord(msgspec.Struct, frozen=True):
    goal: GoalOut
    check_ins: list[CheckIn]
    """Every check-in, those entered in error too (marked so)."""
    events: list[HistoryEntry]
    """Every event of the goal, oldest first, corrections beside what they correct."""


async def goal_as_json(
    conn: Connection, access: GoalAccess, recorded: list[RecordedEvent]
) -> bytes:
    loaded = loaded_from(recorded, access)
    events = [codec.decode_event(item) for item in recorded]
    return msgspec.json.encode(
        GoalInRecord(
            goal=full_goal(loaded),
            check_ins=all_check_ins(events),
            events=await history_entries(conn, recorded),
        )
    )


def goal_as_fhir_entries(goal_id: UUID, recorded: list[RecordedEvent], base: str) -> bytes:
    """The goal's Bundle entries, comma-separated."""
    history = [(codec.decode_event(item), stamp_of(item)) for item in recorded]
    detail = goal_detail([event for event, _ in history])
    record = goal_record(history)
    if detail is None or record is None:
        raise ValueError("an empty stream has no goal")
    today = local_day(datetime.now(UTC), detail.terms.time_zone)
    resources = [goal_resource(detail, record, today=today)]
    resources += [
        provenance(goal_id, item.event_id, item.event_type, stamp, item.metadata.reason)
        for item, (_, stamp) in zip(recorded, history, strict=True)
    ]
    check_ins = all_check_ins(event for event, _ in history)
    resources += [check_in_observation(detail, check_in) for check_in in check_ins]
    return b",".join(
        msgspec.json.encode(
            {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource}
        )
        for resource in resources
    )
