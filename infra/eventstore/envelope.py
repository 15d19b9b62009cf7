"""What the log stores around each event: identity, position, and who, why and in which flow."""

from datetime import datetime
from uuid import UUID

import msgspec

SCHEMA_VERSION = 1


class Metadata(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """Who did it and why. `actor_id` is None only for the system itself (e.g. a migration);
    `token_id` names the credential the actor wrote with (None for the system, and for events
    written before tokens were recorded)."""

    actor_id: UUID | None
    actor_role: str
    clinic_id: UUID | None
    correlation_id: str
    causation_id: str | None = None
    reason: str | None = None
    schema_version: int = SCHEMA_VERSION
    token_id: UUID | None = None


class NewEvent(msgspec.Struct, frozen=True, gc=False):
    """An event ready to append: its id is chosen by the writer, which makes retries safe."""

    event_id: UUID
    event_type: str
    data: str
    metadata: Metadata


class RecordedEvent(msgspec.Struct, frozen=True, gc=False):
    position: int
    transaction_id: int
    stream_id: str
    stream_version: int
    event_id: UUID
    event_type: str
    data: str
    metadata: Metadata
    recorded_at: datetime


class FeedCheckpoint(msgspec.Struct, frozen=True, gc=False, order=True):
    """How far a reader of the global feed has come: the last (transaction id, position) read."""

    transaction_id: int = 0
    position: int = 0


class StoredPosition(msgspec.Struct, frozen=True, gc=False):
    position: int
    stream_version: int


class AppendResult(msgspec.Struct, frozen=True, gc=False):
    """Where the events went; `replayed` says they were already there from an earlier call."""

    stored: tuple[StoredPosition, ...]
    replayed: bool = False

    @property
    def version(self) -> int:
        return self.stored[-1].stream_version

    @property
    def last_position(self) -> int:
        return max(item.position for item in self.stored)
