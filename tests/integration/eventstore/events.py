"""Small builders for raw log entries, independent of the goal domain."""

import json
import uuid

from infra.db.connection import Connection
from infra.eventstore.envelope import Metadata, NewEvent

METADATA = Metadata(
    actor_id=uuid.UUID(int=1),
    actor_role="therapist",
    clinic_id=uuid.UUID(int=2),
    correlation_id="test-correlation",
)


def new_event(label: str = "x", **data: object) -> NewEvent:
    return NewEvent(uuid.uuid4(), "test_happened", json.dumps({"label": label, **data}), METADATA)


async def take_transaction_id(conn: Connection) -> None:
    """Makes the open transaction take its id now, as one that writes something else first
    (an idempotency key, another stream) does before it appends."""
    await conn.execute("SELECT pg_current_xact_id()")
