from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec


class AccessRecordOut(msgspec.Struct, frozen=True):
    id: int
    requested_at: datetime
    """When the request arrived."""
    recorded_at: datetime
    """When its record was committed, before its answer was sent."""
    user_id: UUID | None
    """Who asked; null when the request proved no one (a 401)."""
    display_name: str | None
    token_id: UUID | None
    role: str | None
    client_ids: list[UUID]
    """Whose goals were read, or asked for."""
    goal_ids: list[UUID]
    method: str
    route: str
    """The route's template: what kind of read."""
    path: str
    """The path asked for (empty in a client's own account)."""
    status: int
    """The outcome: the answer's HTTP status."""
    correlation_id: str
    """The request's `X-Request-ID`, as its log line and any events it wrote carry it."""


class AccessLogPage(msgspec.Struct, frozen=True):
    records: list[AccessRecordOut]
    """At most `limit`, newest first."""
    next_cursor: str | None = None
    """Set when more records follow: send it as `cursor` for the next page."""


class AdminActionOut(msgspec.Struct, frozen=True):
    position: int
    """The event's position in the log."""
    stream_id: str
    type: str
    """The event's type, e.g. `user_registered`, `token_revoked`, `therapist_assigned`."""
    data: dict[str, Any]
    actor_id: UUID | None
    actor_role: str
    token_id: UUID | None
    correlation_id: str
    reason: str | None
    recorded_at: datetime


class AdminActionPage(msgspec.Struct, frozen=True):
    actions: list[AdminActionOut]
    next_cursor: str | None = None


class DisclosureOut(msgspec.Struct, frozen=True):
    """One time the client's goals were shown: to a person, or to a webhook receiver."""

    kind: Literal["read", "webhook_delivery"]
    at: datetime
    """When: the read's arrival, or the delivery's acknowledgement."""
    user_id: UUID | None
    """Who read (null for a webhook delivery)."""
    display_name: str | None
    token_id: UUID | None
    role: str | None
    recipient: str | None
    """The webhook endpoint's URL (null for a read)."""
    goal_ids: list[UUID]
    """The client's own goals shown, and no one else's."""
    route: str | None
    """What kind of read: the route's template."""
    event_type: str | None
    """What a webhook delivery carried: the event's type."""
    status: int | None
    correlation_id: str | None


class DisclosurePage(msgspec.Struct, frozen=True):
    disclosures: list[DisclosureOut]
    """At most `limit`, newest first."""
    next_cursor: str | None = None
    """Set when more follow: send it as `cursor` for the next page."""
