from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from domain.access.people import NO_NUL_PATTERN
from domain.webhooks.payload import DEFAULT_FORMAT, Format
from infra.webhooks.addresses import MAX_URL_LENGTH

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_URL_LENGTH)]
EventTypes = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(min_length=1, max_length=20)
]
Description = Annotated[str, msgspec.Meta(max_length=500, pattern=NO_NUL_PATTERN)]


class NewEndpoint(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: Url
    event_types: EventTypes
    """Goal event types (`goal.set`, …, `nudge.sent`), or `["*"]` for all."""
    format: Format = DEFAULT_FORMAT
    """`id-only` (ids and where the event stands), `full` (with the event's fields), `fhir`
    (with the goal as a FHIR R4 Goal)."""
    description: Description = ""


class EndpointChanges(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What to change; what is omitted stays."""

    url: Url | None = None
    event_types: EventTypes | None = None
    format: Format | None = None
    description: Description | None = None


class EndpointOut(msgspec.Struct, frozen=True):
    id: UUID
    url: str
    event_types: list[str]
    format: Format
    description: str
    enabled: bool
    disabled_reason: str | None
    """`gone` (the receiver answered 410), `failing` (five days of failures), `by_user`."""
    last_sequence: int
    """The sequence number of the endpoint's latest delivery."""
    failing_since: datetime | None
    warned_at: datetime | None
    """When the clinic was warned that the endpoint will be disabled for failing."""
    previous_secret_expires_at: datetime | None
    """Until then, the secret before the last rotation signs beside the current one."""
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointOut, frozen=True):
    secret: str
    """The signing secret (`whsec_…`): shown once, here."""


class EndpointList(msgspec.Struct, frozen=True):
    endpoints: list[EndpointOut]


class RotatedSecret(msgspec.Struct, frozen=True, omit_defaults=True):
    previous_secret_expires_at: datetime
    """Until then both secrets sign every request."""
    secret: str | None = None
    """The new signing secret: shown once, in the first reply (a retry under the same
    Idempotency-Key answers without it)."""


class DeliveryOut(msgspec.Struct, frozen=True):
    id: UUID
    """Also the `webhook-id` of each of its requests."""
    endpoint_id: UUID
    sequence: int
    event_id: UUID
    event_type: str
    goal_id: UUID | None
    """None for a nudge about no goal."""
    client_id: UUID | None
    position: int
    state: str
    """`pending`, `held` (recorded while the endpoint was disabled), `delivered`, `failed`."""
    attempt_count: int
    next_attempt_at: datetime | None
    last_status: int | None
    created_at: datetime
    delivered_at: datetime | None


class AttemptOut(msgspec.Struct, frozen=True):
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    response_body: str
    """At most 1 KiB of the receiver's answer."""


class DeliveryDetail(DeliveryOut, frozen=True):
    attempts: list[AttemptOut]


class DeliveryPage(msgspec.Struct, frozen=True):
    deliveries: list[DeliveryOut]
    next_cursor: str | None


class Replay(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One of the two: from a sequence number on (itself included), or from a time on."""

    since_sequence: Annotated[int, msgspec.Meta(ge=0)] | None = None
    since: datetime | None = None


class Replayed(msgspec.Struct, frozen=True):
    deliveries: int
    """How many deliveries are to be sent again."""
