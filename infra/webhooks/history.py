"""Deliveries and their attempts, as the API shows them, and the replays it asks for. Every
delivery names the client whose goal it disclosed, for the accounting of disclosures."""

from datetime import datetime
from uuid import UUID

import msgspec

from infra.db.connection import Connection

DELIVERY_COLUMNS = (
    "id, endpoint_id, sequence, event_id, event_type, goal_id, client_id, position, state, "
    "attempt_count, next_attempt_at, last_status, created_at, delivered_at"
)


class DeliveryRow(msgspec.Struct, frozen=True):
    id: UUID
    endpoint_id: UUID
    sequence: int
    event_id: UUID
    event_type: str
    goal_id: UUID | None
    client_id: UUID | None
    position: int
    state: str
    attempt_count: int
    next_attempt_at: datetime | None
    last_status: int | None
    created_at: datetime
    delivered_at: datetime | None


class AttemptRow(msgspec.Struct, frozen=True):
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    response_body: str


def _delivery(record: object) -> DeliveryRow:
    return msgspec.convert(dict(record), DeliveryRow)  # type: ignore[call-overload]


async def deliveries(
    conn: Connection,
    clinic_id: UUID,
    endpoint_id: UUID,
    *,
    after_sequence: int,
    limit: int,
    client_id: UUID | None = None,
) -> list[DeliveryRow]:
    records = await conn.fetch(
        f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries "  # noqa: S608
        "WHERE endpoint_id = $1 AND clinic_id = $2 AND sequence > $3 "
        "AND ($5::uuid IS NULL OR client_id = $5) ORDER BY sequence LIMIT $4",
        endpoint_id,
        clinic_id,
        after_sequence,
        limit,
        client_id,
    )
    return [_delivery(record) for record in records]


async def delivery(
    conn: Connection, clinic_id: UUID, delivery_id: UUID
) -> tuple[DeliveryRow, list[AttemptRow]] | None:
    record = await conn.fetchrow(
        f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries "  # noqa: S608
        "WHERE id = $1 AND clinic_id = $2",
        delivery_id,
        clinic_id,
    )
    if record is None:
        return None
    attempts = await conn.fetch(
        "SELECT attempted_at, status_code, duration_ms, error, response_body "
        "FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id",
        delivery_id,
    )
    return _delivery(record), [msgspec.convert(dict(row), AttemptRow) for row in attempts]


async def disclosures_of_client(
    conn: Connection, clinic_id: UUID, client_id: UUID
) -> list[DeliveryRow]:
    """Every delivery of the client's goal events, oldest first: the accounting of disclosures
    reads this."""
    records = await conn.fetch(
        f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries "  # noqa: S608
        "WHERE clinic_id = $1 AND client_id = $2 ORDER BY created_at, id",
        clinic_id,
        client_id,
    )
    return [_delivery(record) for record in records]


_SEND_AGAIN = (
    "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(), attempt_count = 0 "
)


async def replay(
    conn: Connection, endpoint_id: UUID, since_sequence: int | None, since: datetime | None
) -> int:
    """Sends again, from a sequence number or a time on, whatever the endpoint was given, with
    each delivery's own `webhook-id`; a fresh schedule of retries for each."""
    done = await conn.fetch(
        _SEND_AGAIN + "WHERE endpoint_id = $1 AND ($2::bigint IS NULL OR sequence >= $2) "
        "AND ($3::timestamptz IS NULL OR created_at >= $3) RETURNING id",
        endpoint_id,
        since_sequence,
        since,
    )
    return len(done)


async def retry(conn: Connection, delivery_id: UUID) -> None:
    await conn.execute(_SEND_AGAIN + "WHERE id = $1", delivery_id)


class SendingHealth(msgspec.Struct, frozen=True):
    due: int
    """Deliveries whose attempt time has come, across every clinic."""
    oldest_due_seconds: float
    """How long the oldest of them has been due: senders that keep up keep it near 0."""
    disabled_endpoints: int
    """Endpoints the service stopped sending to (410, five days failing, or by a user)."""


async def sending_health(conn: Connection) -> SendingHealth:
    row = await conn.fetchrow(
        """
        SELECT count(*) AS due,
            coalesce(extract(epoch FROM now() - min(next_attempt_at)), 0)::float8 AS oldest,
            (SELECT count(*) FROM webhook_endpoints
             WHERE NOT enabled AND deleted_at IS NULL) AS disabled
        FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= now()
        """
    )
    assert row is not None  # noqa: S101 - an aggregate always answers a row
    return SendingHealth(row["due"], row["oldest"], row["disabled"])
