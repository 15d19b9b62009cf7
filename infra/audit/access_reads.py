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

# A client's account lists what was disclosed (answers below 400), and of each record only the
# client's own goals: a caseload read also names other clients, which are not theirs to know.
_DISCLOSED = f"""
SELECT a.id, a.requested_at, a.recorded_at, a.user_id, u.display_name, a.token_id, a.role,
    ARRAY[$2::uuid] AS client_ids,
    array(
        SELECT g FROM unnest(a.goal_ids) g
        WHERE EXISTS (
            SELECT 1 FROM events
            WHERE stream_id = 'goal-' || g AND stream_version = 1
                AND data ->> 'client_id' = $2::text
        )
    ) AS goal_ids,
    a.method, a.route, '' AS path, a.status, a.correlation_id
FROM access_log a LEFT JOIN users u ON u.id = a.user_id
WHERE {_FILTERED} AND a.client_ids @> ARRAY[$2::uuid] AND a.status < 400
ORDER BY a.id DESC LIMIT $7
"""  # noqa: S608 - constant fragments


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


async def disclosures_to(conn: Connection, wanted: AccessFilter) -> list[AccessRow]:
    """Who was shown the goals of `wanted.client_id` (set it: a filter without one finds none)."""
    rows = await conn.fetch(_DISCLOSED, *_arguments(wanted))
    return [AccessRow(**dict(row)) for row in rows]
