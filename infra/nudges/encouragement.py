"""A supporter's encouragement: recorded in the log and stored as a nudge to the client, in one
transaction; the delivery pass sends it like any other nudge."""

import uuid
from datetime import datetime
from uuid import UUID

from domain.nudges import messages
from domain.nudges.events import EncouragementSent
from domain.nudges.nudge import Nudge, nudge_key
from infra.db.connection import Connection
from infra.eventstore.audit import record
from infra.eventstore.envelope import Metadata
from infra.nudges.delivery import nudge_stream
from infra.nudges.stored import Origin, nudge_id, store


async def encourage(
    conn: Connection,
    *,
    goal_id: UUID,
    client_id: UUID,
    supporter_id: UUID,
    text: str,
    now: datetime,
    metadata: Metadata,
) -> UUID | None:
    """The nudge's id; None if the client cannot be nudged (deactivated)."""
    clinic_id = metadata.clinic_id
    sender = await conn.fetchval(
        "SELECT display_name FROM users WHERE id = $1 AND clinic_id = $2", supporter_id, clinic_id
    )
    if clinic_id is None or sender is None:
        return None
    key = nudge_key("encouragement", goal_id, str(uuid.uuid4()), client_id)
    nudge = Nudge(
        key,
        "encouragement",
        client_id,
        clinic_id,
        goal_id,
        messages.encouragement(sender, text.strip()),
        now,
        None,
    )
    if not await store(conn, [nudge], now=now, origins=[Origin(metadata.correlation_id)]):
        return None
    stored_id = nudge_id(key)
    event = EncouragementSent(stored_id, goal_id, client_id, supporter_id, text.strip())
    await record(conn, nudge_stream(stored_id), [event], metadata)
    return stored_id
