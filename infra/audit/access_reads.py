"""Reading the access log: an auditor's view of their clinic's records, and a client's account of
who read their goals. Newest first, a page at a time, after a cursor (the last id seen)."""

from datetime import datetime
from uuid import UUID

import msgspec

from infra.db.connection import Connection


class AccessFilter(msgspec.Struct, frozen=True):
    clinic_id: UUID
    limit: int
    client_id: UUID | None = None
    user_id: UUID | None = None
    since: datetime | None = None
    """Records of requests that arrived at or after this moment."""
    until: datetime | None = None
    """Records of requests that arrived before this moment."""
    before_id: int | None = None


class AccessRow(msgspec.Struct, frozen=True):
    id: int
    requested_at: datetime
    recorded_at: datetime
    user_id: UUID | None
    display_name: str | None
    token_id: UUID | None
    role: str | None
    client_ids: list[UUID]
    goal_ids: list[UUID]
    method: str
    route: str
    path: str
    status: int
    correlation_id: str


_FILTERED = """
    a.clinic_id = $1
    AND ($2::uuid IS NULL OR a.client_ids @> ARRAY[$2::uuid])
    AND ($3::uuid IS NULL OR a.user_id = $3)
    AND ($4::timestamptz IS NULL OR a.requested_at >= $4)
    AND ($5::timestamptz IS NULL OR a.requested_at < $5)
    AND ($6::bigint IS NULL OR a.id < $6)
"""

_AUDITED = f"""
SELECT a.id, a.requested_at, a.recorded_at, a.user_id, u.display_name, a.token_id, a.role,
    a.client_ids, a.goal_ids, a.method, a.route, a.path, a.status, a.correlation_id
FROM access_log a LEFT JOIN users u ON u.id = a.user_id
WHERE {_FILTERED}
ORDER BY a.id DESC LIMIT $7
"""  # noqa: S608 - constant fragments

# A client's account lists what was disclosed: answered reads (below 400), and of each record only
# the client's own goals (a caseload read also names other clients, which are not theirs to
# know); and the webhook deliveries of their goals' events that a receiver acknowledged. Newest
# first by when it was shown, a cursor being the last (moment, key) seen.
_DISCLOSED = """
SELECT * FROM (
    SELECT 'read' AS kind, a.requested_at AS at, 'r' || lpad(a.id::text, 20, '0') AS key,
        a.user_id, u.display_name, a.token_id, a.role, NULL::text AS recipient,
        array(
            SELECT g FROM unnest(a.goal_ids) g
            WHERE EXISTS (
                SELECT 1 FROM events
                WHERE stream_id = 'goal-' || g AND stream_version = 1
                    AND data ->> 'client_id' = $2::uuid::text
            )
        ) AS goal_ids,
        a.route, NULL::text AS event_type, a.status::integer AS status, a.correlation_id
    FROM access_log a LEFT JOIN users u ON u.id = a.user_id
    WHERE a.clinic_id = $1 AND a.client_ids @> ARRAY[$2::uuid] AND a.status < 400
    UNION ALL
    SELECT 'webhook_delivery', d.delivered_at, 'w' || d.id::text,
        NULL, NULL, NULL, NULL, e.url, array_remove(ARRAY[d.goal_id], NULL), NULL, d.event_type,
        d.last_status, NULL
    FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
    WHERE d.clinic_id = $1 AND d.client_id = $2::uuid AND d.state = 'delivered'
) shown
WHERE ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
    AND ($5::timestamptz IS NULL OR (at, key) < ($5, $6::text))
ORDER BY at DESC, key DESC LIMIT $7
"""


class Disclosure(msgspec.Struct, frozen=True):
    kind: str
    at: datetime
    key: str
    user_id: UUID | None
    display_name: str | None
    token_id: UUID | None
    role: str | None
    recipient: str | None
    goal_ids: list[UUID]
    route: str | None
    event_type: str | None
    status: int | None
    correlation_id: str | None


class DisclosureFilter(msgspec.Struct, frozen=True):
    clinic_id: UUID
    client_id: UUID
    limit: int
    since: datetime | None = None
    until: datetime | None = None
    before: tuple[datetime, str] | None = None


async def disclosures_to(conn: Connection, wanted: DisclosureFilter) -> list[Disclosure]:
    """Who was shown the goals of `wanted.client_id`: people reading, and webhook receivers."""
    before_at, before_key = wanted.before or (None, None)
    rows = await conn.fetch(
        _DISCLOSED,
        wanted.clinic_id,
        wanted.client_id,
        wanted.since,
        wanted.until,
        before_at,
        before_key,
        wanted.limit,
    )
    return [Disclosure(**dict(row)) for row in rows]


def _arguments(wanted: AccessFilter) -> tuple[object, ...]:
    return (
        wanted.clinic_id,
        wanted.client_id,
        wanted.user_id,
        wanted.since,
        wanted.until,
        wanted.before_id,
        wanted.limit,
    )


async def audited_access(conn: Connection, wanted: AccessFilter) -> list[AccessRow]:
    rows = await conn.fetch(_AUDITED, *_arguments(wanted))
    return [AccessRow(**dict(row)) for row in rows]
