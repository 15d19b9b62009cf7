"""A goal's history for people and auditors: each event with who, when and why, and each
check-in (or the goal itself) that a correction marks as entered in error shown beside the
correction that marked it, even when the correction falls on a later page."""

from uuid import UUID

import msgspec

from infra.access.queries import users_by_id
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.goals.queries import corrections_of
from services.api.goals.schemas import Actor, CorrectionMark, HistoryEntry

_as_object = msgspec.json.Decoder(dict[str, object]).decode


class _Corrected(msgspec.Struct, frozen=True):
    scope: str
    reason: str
    check_in_id: UUID | None = None


_as_correction = msgspec.json.Decoder(_Corrected).decode

_GOAL = "goal"
"""The key of a correction of the whole goal, which marks the goal's setting."""


def _corrected_key(item: RecordedEvent) -> UUID | str | None:
    """What a correction would mark this event by: a check-in's id, or the goal's setting."""
    if item.event_type == "progress_recorded":
        return UUID(str(_as_object(item.data)["check_in_id"]))
    return _GOAL if item.event_type == "goal_set" else None


async def _corrections(
    conn: Connection, recorded: list[RecordedEvent]
) -> dict[UUID | str, RecordedEvent]:
    keys = [key for key in map(_corrected_key, recorded) if key is not None]
    if not recorded or not keys:
        return {}
    goal_id = UUID(str(_as_object(recorded[0].data)["goal_id"]))
    check_ins = [key for key in keys if isinstance(key, UUID)]
    found = {}
    for item in await corrections_of(conn, goal_id, check_ins):
        correction = _as_correction(item.data)
        key = _GOAL if correction.scope == "goal" else correction.check_in_id
        if key is not None:
            found[key] = item
    return found


async def history_entries(conn: Connection, recorded: list[RecordedEvent]) -> list[HistoryEntry]:
    corrections = await _corrections(conn, recorded)
    authors = [*recorded, *corrections.values()]
    users = await users_by_id(
        conn, list({item.metadata.actor_id for item in authors if item.metadata.actor_id})
    )

    def actor(item: RecordedEvent) -> Actor:
        actor_id = item.metadata.actor_id
        user = users.get(actor_id) if actor_id else None
        return Actor(actor_id, user.display_name if user else None, item.metadata.actor_role)

    entries = []
    for item in recorded:
        data = _as_object(item.data)
        data.pop("type", None)
        key = _corrected_key(item)
        correction = corrections.get(key) if key is not None else None
        entries.append(
            HistoryEntry(
                version=item.stream_version,
                position=item.position,
                type=item.event_type,
                recorded_at=item.recorded_at,
                actor=actor(item),
                reason=item.metadata.reason,
                correlation_id=item.metadata.correlation_id,
                data=data,
                entered_in_error=correction is not None,
                corrected_by=None
                if correction is None
                else CorrectionMark(
                    version=correction.stream_version,
                    recorded_at=correction.recorded_at,
                    actor=actor(correction),
                    reason=_as_correction(correction.data).reason,
                ),
            )
        )
    return entries
