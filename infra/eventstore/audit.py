"""Appending events that record a change rather than decide one (e.g. access changes)."""

import uuid
from collections.abc import Sequence

import msgspec

from infra.db.connection import Connection
from infra.eventstore.envelope import AppendResult, Metadata, NewEvent
from infra.eventstore.store import WrongExpectedVersion, append, stream_version

_ATTEMPTS = 5
_encoder = msgspec.json.Encoder()


async def record(
    conn: Connection, stream_id: str, events: Sequence[msgspec.Struct], metadata: Metadata
) -> AppendResult:
    """Appends tagged events at the end of the stream, whatever its version."""
    new_events = [
        NewEvent(
            event_id=uuid.uuid4(),
            event_type=str(type(event).__struct_config__.tag),
            data=_encoder.encode(event).decode(),
            metadata=metadata,
        )
        for event in events
    ]
    attempt = 1
    while True:
        try:
            return await append(conn, stream_id, await stream_version(conn, stream_id), new_events)
        except WrongExpectedVersion:
            if attempt == _ATTEMPTS:
                raise
            attempt += 1
