"""The webhook deliveries of `nudge.sent`: each nudge sent, once, to every endpoint of its clinic
that subscribed to it, in the order of the feed.

Nudges live in streams of their own (`nudge-<id>`), which the goal consumers do not follow:
this one follows the whole feed (infra/projections/feed_consumer.py) and records a delivery for
each `nudge_sent` event, with the endpoint's next sequence number, in the transaction that moves
its checkpoint, as the goal events' consumer does (infra/webhooks/fanout.py). An endpoint gets
the nudges sent after it was made: the first pass of a new deployment, which reads the log from
its start, sends no endpoint what was said before it existed.
"""

from uuid import UUID

import msgspec

from domain.nudges.events import NudgeSent
from domain.webhooks.types import NUDGE_SENT, subscribes
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.projections.feed_consumer import feed_follower
from infra.webhooks.fanout import RECORD_DELIVERY, client_of_goal, delivery_id

NAME = "webhook_nudge_deliveries"

_decode = msgspec.json.Decoder(NudgeSent).decode


async def _whose(conn: Connection, nudge: NudgeSent, roles: dict[UUID, str]) -> UUID | None:
    """The client the nudge is about, for the accounting of disclosures: the goal's, or the
    recipient when the recipient is a client; nobody's for a nudge to staff about no goal."""
    if nudge.goal_id is not None:
        return await client_of_goal(conn, nudge.goal_id)
    return nudge.recipient_id if roles.get(nudge.recipient_id) == "client" else None


async def record_nudge_deliveries(conn: Connection, events: list[RecordedEvent]) -> None:
    sent = [
        (event, _decode(event.data))
        for event in events
        if event.event_type == "nudge_sent" and event.metadata.clinic_id is not None
    ]
    if not sent:
        return
    endpoints = await conn.fetch(
        "SELECT id, clinic_id, event_types, created_at FROM webhook_endpoints "
        "WHERE clinic_id = ANY($1::uuid[]) AND deleted_at IS NULL ORDER BY id",
        list({event.metadata.clinic_id for event, _ in sent}),
    )
    if not endpoints:
        return
    roles = {
        row["id"]: row["role"]
        for row in await conn.fetch(
            "SELECT id, role FROM users WHERE id = ANY($1::uuid[])",
            list({nudge.recipient_id for _, nudge in sent}),
        )
    }
    rows = []
    for event, nudge in sent:
        listening = [
            endpoint
            for endpoint in endpoints
            if endpoint["clinic_id"] == event.metadata.clinic_id
            and endpoint["created_at"] <= event.recorded_at
            and subscribes(endpoint["event_types"], NUDGE_SENT)
        ]
        if not listening:
            continue
        client_id = await _whose(conn, nudge, roles)
        rows += [
            (
                endpoint["id"],
                delivery_id(endpoint["id"], event.event_id),
                endpoint["clinic_id"],
                event.event_id,
                NUDGE_SENT,
                nudge.goal_id,
                client_id,
                event.position,
            )
            for endpoint in listening
        ]
    if rows:
        await conn.executemany(RECORD_DELIVERY, rows)


CONSUMER = feed_follower(NAME, record_nudge_deliveries)
