"""A goal's history for people and auditors: each event with who, when and why."""

import msgspec

from infra.access.queries import users_by_id
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from services.api.goals.schemas import Actor, HistoryEntry

_as_object = msgspec.json.Decoder(dict[str, object]).decode


async def history_entries(conn: Connection, recorded: list[RecordedEvent]) -> list[HistoryEntry]:
    actor_ids = list({item.metadata.actor_id for item in recorded if item.metadata.actor_id})
    users = await users_by_id(conn, actor_ids)
    entries = []
    for item in recorded:
        actor_id = item.metadata.actor_id
        user = users.get(actor_id) if actor_id else None
        data = _as_object(item.data)
        data.pop("type", None)
        entries.append(
            HistoryEntry(
                version=item.stream_version,
                position=item.position,
                type=item.event_type,
                recorded_at=item.recorded_at,
                actor=Actor(
                    actor_id, user.display_name if user else None, item.metadata.actor_role
                ),
                reason=item.metadata.reason,
                correlation_id=item.metadata.correlation_id,
                data=data,
            )
        )
    return entries
