"""What a receiver gets: `{"type", "timestamp", "data"}`, as bytes that are signed and sent as
they are. The same delivery always makes the same bytes, so every attempt carries the same body.

A goal event says where it stands in its goal; `nudge.sent` says which nudge, and in `full`, the
nudge's rule, goal, channels and the recipient's role: never what it said, nor to whom by name.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from domain.goals.fhir import Json
from domain.nudges.events import NudgeSent
from domain.webhooks.types import NUDGE_SENT

Format = Literal["id-only", "full", "fhir"]
FORMATS: tuple[Format, ...] = ("id-only", "full", "fhir")
DEFAULT_FORMAT: Format = "id-only"


class Disclosed(msgspec.Struct, frozen=True, gc=False):
    """One event as one endpoint receives it."""

    event_id: UUID
    webhook_type: str
    sequence: int
    position: int
    goal_id: UUID | None
    """None for a nudge about no goal."""
    stream_version: int
    clinic_id: UUID
    actor_role: str
    recorded_at: datetime
    fields: str
    """The event's own fields, as the log stores them (JSON); sent only in the `full` format."""
    recipient_role: str | None = None
    """For a nudge, the role of the person it went to."""


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


class _NudgeFacts(msgspec.Struct, frozen=True, gc=False):
    rule: str
    goal_id: UUID | None
    recipient_role: str | None
    channels: tuple[str, ...]


class _NudgeData(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    event_id: UUID
    sequence: int
    position: int
    nudge_id: UUID
    goal_id: UUID | None
    stream_version: int
    clinic_id: UUID
    actor_role: str
    nudge: _NudgeFacts | None = None
    """What kind of nudge went to whom by role, by which channels; `full` only."""


class _Body(msgspec.Struct, frozen=True, gc=False):
    type: str
    timestamp: datetime
    data: _Data | _NudgeData


_encoder = msgspec.json.Encoder()
_decode_nudge = msgspec.json.Decoder(NudgeSent).decode


def _nudge_data(disclosed: Disclosed, format: Format) -> _NudgeData:
    """The nudge's ids; in `full`, what kind of nudge went by which channels to which role. The
    `fhir` format sends the ids alone: a nudge is no FHIR Goal."""
    nudge = _decode_nudge(disclosed.fields)
    facts = _NudgeFacts(nudge.kind, nudge.goal_id, disclosed.recipient_role, nudge.channels)
    return _NudgeData(
        event_id=disclosed.event_id,
        sequence=disclosed.sequence,
        position=disclosed.position,
        nudge_id=nudge.nudge_id,
        goal_id=nudge.goal_id,
        stream_version=disclosed.stream_version,
        clinic_id=disclosed.clinic_id,
        actor_role=disclosed.actor_role,
        nudge=facts if format == "full" else None,
    )


def body(disclosed: Disclosed, format: Format, goal: Json | None = None) -> bytes:
    """The minimum necessary by default: ids and where the event stands; its fields in `full`;
    in `fhir`, `goal`: the goal as a FHIR R4 Goal as it stood after the event
    (`domain.goals.fhir.history_resource` of its events up to this one)."""
    if disclosed.webhook_type == NUDGE_SENT:
        nudge = _nudge_data(disclosed, format)
        return _encoder.encode(_Body(disclosed.webhook_type, disclosed.recorded_at, nudge))
    if disclosed.goal_id is None:
        raise ValueError("a goal event's delivery names its goal")
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
