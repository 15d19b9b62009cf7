"""The webhook deliveries consumer: each goal event, once, to every endpoint of its clinic that
subscribed to its type.

A delivery is recorded with the endpoint's next sequence number in the consumer's transaction,
beside its progress (infra/projections/follow.py): nothing is sent for an event that was not
recorded, and nothing recorded is forgotten. Senders pick the due deliveries up from PostgreSQL
(infra/webhooks/sender.py). An endpoint that is disabled still gets its deliveries recorded, as
`held`: a replay sends them once it is enabled again. Nudges sent are the deliveries of another
consumer, which follows their streams (infra/webhooks/nudge_fanout.py).

It cannot be rebuilt: its rows are the record of what was disclosed to whom.
"""

import uuid
from uuid import UUID

from domain.goals.events import GoalSet
from domain.webhooks.types import subscribes, webhook_type
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import EVENT_COLUMNS, recorded_event
from infra.goals.codec import decode_event
from infra.goals.streams import goal_stream
from infra.projections.follow import follower

NAME = "webhook_deliveries"
VERSION = 1

RECORD_DELIVERY = """
WITH numbered AS (
    UPDATE webhook_endpoints SET last_sequence = last_sequence + 1
    WHERE id = $1 RETURNING last_sequence, enabled
)
INSERT INTO webhook_deliveries (id, endpoint_id, clinic_id, sequence, event_id, event_type,
    goal_id, client_id, position, state, next_attempt_at)
SELECT $2, $1, $3, numbered.last_sequence, $4, $5, $6, $7, $8,
    CASE WHEN numbered.enabled THEN 'pending' ELSE 'held' END,
    CASE WHEN numbered.enabled THEN now() END
FROM numbered
"""


def delivery_id(endpoint_id: UUID, event_id: UUID) -> UUID:
    """The same event to the same endpoint is always the same delivery (its `webhook-id`)."""
    return uuid.uuid5(endpoint_id, str(event_id))


async def client_of_goal(conn: Connection, goal_id: UUID) -> UUID | None:
    """Whose goal it is, as its first event says."""
    row = await conn.fetchrow(
        f"SELECT {EVENT_COLUMNS} FROM events "  # noqa: S608
        "WHERE stream_id = $1 AND stream_version = 1",
        goal_stream(goal_id),
    )
    return None if row is None else _client_set(recorded_event(row))


def _client_set(first: RecordedEvent) -> UUID | None:
    set_event = decode_event(first)
    return set_event.client_id if isinstance(set_event, GoalSet) else None


async def _client_of(conn: Connection, goal_id: UUID, events: list[RecordedEvent]) -> UUID | None:
    """Whose goal it is: said by its first event, which this batch may not hold."""
    first = events[0]
    if first.stream_version != 1:
        return await client_of_goal(conn, goal_id)
    return _client_set(first)


async def record_deliveries(conn: Connection, goal_id: UUID, events: list[RecordedEvent]) -> None:
    typed = [(event, webhook_type(event.event_type)) for event in events]
    clinic_ids = {event.metadata.clinic_id for event, kind in typed if kind is not None}
    clinic_ids.discard(None)
    if not clinic_ids:
        return
    endpoints = await conn.fetch(
        "SELECT id, clinic_id, event_types FROM webhook_endpoints "
        "WHERE clinic_id = ANY($1::uuid[]) AND deleted_at IS NULL ORDER BY id",
        list(clinic_ids),
    )
    if not endpoints:
        return
    client_id = await _client_of(conn, goal_id, events)
    rows = [
        (
            endpoint["id"],
            delivery_id(endpoint["id"], event.event_id),
            endpoint["clinic_id"],
            event.event_id,
            kind,
            goal_id,
            client_id,
            event.position,
        )
        for event, kind in typed
        if kind is not None
        for endpoint in endpoints
        if endpoint["clinic_id"] == event.metadata.clinic_id
        and subscribes(endpoint["event_types"], kind)
    ]
    if rows:
        await conn.executemany(RECORD_DELIVERY, rows)


CONSUMER = follower(NAME, VERSION, ("webhook_deliveries",), record_deliveries)
