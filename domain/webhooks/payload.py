"""What a receiver gets: `{"type", "timestamp", "data"}`, as bytes that are signed and sent as
they are. The same delivery always makes the same bytes, so every attempt carries the same body.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from domain.goals.fhir import Json

Format = Literal["id-only", "full", "fhir"]
FORMATS: tuple[Format, ...] = ("id-only", "full", "fhir")
DEFAULT_FORMAT: Format = "id-only"


class Disclosed(msgspec.Struct, frozen=True, gc=False):
    """One event as one endpoint receives it."""

    event_id: UUID
    webhook_type: str
    sequence: int
    position: int
    goal_id: UUID
    stream_version: int
    clinic_id: UUID
    actor_role: str
    recorded_at: datetime
    fields: str
    """The event's own fields, as the log stores them (JSON); sent only in the `full` format."""


class _Data(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    event_id: UUID
    sequence: int
    position: int
    goal_id: UUID
    stream_version: int
    clinic_id: UUID
    actor_role: str
    event: msgspec.Raw | None = None
    """The event's fields as the log holds them."""
    resource: msgspec.Raw | None = None
    """The goal as a FHIR R4 Goal, as it stood after the event."""


class _Body(msgspec.Struct, frozen=True, gc=False):
    type: str
    timestamp: datetime
    data: _Data


_encoder = msgspec.json.Encoder()


def body(disclosed: Disclosed, format: Format, goal: Json | None = None) -> bytes:
    """The minimum necessary by default: ids and where the event stands; its fields in `full`;
    in `fhir`, `goal`: the goal as a FHIR R4 Goal as it stood after the event
    (`domain.goals.fhir.history_resource` of its events up to this one)."""
    if format == "fhir" and goal is None:
        raise ValueError("the fhir format sends the goal as a FHIR Goal, and none was given")
    data = _Data(
        event_id=disclosed.event_id,
        sequence=disclosed.sequence,
        position=disclosed.position,
        goal_id=disclosed.goal_id,
        stream_version=disclosed.stream_version,
        clinic_id=disclosed.clinic_id,
        actor_role=disclosed.actor_role,
        event=msgspec.Raw(disclosed.fields.encode()) if format == "full" else None,
        resource=msgspec.Raw(_encoder.encode(goal)) if format == "fhir" else None,
    )
    return _encoder.encode(_Body(disclosed.webhook_type, disclosed.recorded_at, data))
