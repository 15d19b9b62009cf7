"""What a sender takes from PostgreSQL and writes back: the endpoint (one sender at a time), its
due deliveries, and each attempt's outcome.

A claim is a lease: the endpoint's `sending_until`, and each claimed delivery's
`next_attempt_at`, are moved `lease` seconds ahead. A sender that dies (even by SIGKILL) leaves
both to expire, and the deliveries are sent again, with the same `webhook-id`.
"""

from datetime import datetime
from uuid import UUID

import msgspec

from domain.webhooks.payload import Disclosed, Format
from infra.db.connection import Connection


class Endpoint(msgspec.Struct, frozen=True):
    id: UUID
    clinic_id: UUID
    url: str
    format: Format
    secrets: list[str]
    failing_since: datetime | None
    warned: bool


class Due(msgspec.Struct, frozen=True):
    delivery_id: UUID
    attempt_count: int
    disclosed: Disclosed


_CLAIM_ENDPOINT = """
UPDATE webhook_endpoints SET sending_until = now() + make_interval(secs => $2)
WHERE id = $1 AND enabled AND deleted_at IS NULL
    AND (sending_until IS NULL OR sending_until < now())
RETURNING id, clinic_id, url, format, secret, failing_since, warned_at IS NOT NULL AS warned,
    CASE WHEN previous_secret_expires_at > now() THEN previous_secret END AS previous_secret
"""

_CLAIM_DUE = """
WITH due AS (
    SELECT id FROM webhook_deliveries
    WHERE endpoint_id = $1 AND state = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at, sequence LIMIT $3 FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $2)
    FROM due WHERE d.id = due.id
    RETURNING d.id, d.sequence, d.event_id, d.event_type, d.goal_id, d.clinic_id, d.position,
        d.attempt_count
)
SELECT c.id, c.sequence, c.event_id, c.event_type, c.goal_id, c.clinic_id, c.position,
    c.attempt_count, e.stream_version, e.data::text AS data,
    e.metadata ->> 'actor_role' AS actor_role, e.recorded_at,
    CASE WHEN c.event_type = 'nudge.sent' THEN
        (SELECT u.role FROM users u WHERE u.id = (e.data ->> 'recipient_id')::uuid)
    END AS recipient_role
FROM claimed c JOIN events e ON e.event_id = c.event_id
ORDER BY c.sequence
"""


async def claim_endpoint(conn: Connection, endpoint_id: UUID, lease: float) -> Endpoint | None:
    row = await conn.fetchrow(_CLAIM_ENDPOINT, endpoint_id, lease)
    if row is None:
        return None
    signing = [row["secret"]]
    if row["previous_secret"] is not None:
        signing.append(row["previous_secret"])
    return Endpoint(
        id=row["id"],
        clinic_id=row["clinic_id"],
        url=row["url"],
        format=row["format"],
        secrets=signing,
        failing_since=row["failing_since"],
        warned=row["warned"],
    )


async def keep_endpoint(conn: Connection, endpoint_id: UUID, lease: float) -> None:
    await conn.execute(
        "UPDATE webhook_endpoints SET sending_until = now() + make_interval(secs => $2) "
        "WHERE id = $1",
        endpoint_id,
        lease,
    )


async def release_endpoint(conn: Connection, endpoint_id: UUID) -> None:
    await conn.execute(
        "UPDATE webhook_endpoints SET sending_until = NULL WHERE id = $1", endpoint_id
    )


async def claim_due(conn: Connection, endpoint_id: UUID, lease: float, limit: int) -> list[Due]:
    rows = await conn.fetch(_CLAIM_DUE, endpoint_id, lease, limit)
    return [
        Due(
            delivery_id=row["id"],
            attempt_count=row["attempt_count"],
            disclosed=Disclosed(
                event_id=row["event_id"],
                webhook_type=row["event_type"],
                sequence=row["sequence"],
                position=row["position"],
                goal_id=row["goal_id"],
                stream_version=row["stream_version"],
                clinic_id=row["clinic_id"],
                actor_role=row["actor_role"],
                recorded_at=row["recorded_at"],
                fields=row["data"],
                recipient_role=row["recipient_role"],
            ),
        )
        for row in rows
    ]


async def due_again(conn: Connection, delivery_ids: list[UUID]) -> None:
    """Gives back claimed deliveries that were not attempted."""
    await conn.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = now() "
        "WHERE id = ANY($1::uuid[]) AND state = 'pending'",
        delivery_ids,
    )


async def endpoints_due(conn: Connection, limit: int) -> list[UUID]:
    """Endpoints with a delivery due and no sender: what the scheduler hands out."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT d.endpoint_id FROM webhook_deliveries d
        JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.state = 'pending' AND d.next_attempt_at <= now()
            AND e.enabled AND e.deleted_at IS NULL
            AND (e.sending_until IS NULL OR e.sending_until < now())
        LIMIT $1
        """,
        limit,
    )
    return [row["endpoint_id"] for row in rows]
