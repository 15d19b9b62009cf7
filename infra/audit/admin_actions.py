"""The administrative actions of a clinic, as its event log holds them: the clinic's settings,
its users (registered, edited, deactivated), their tokens and invitations (issued, redeemed,
revoked, withdrawn) and its care teams (therapists assigned and unassigned). Newest first."""

from datetime import datetime
from uuid import UUID

import msgspec

from infra.db.connection import Connection

# Every stream a clinic's administration writes to, read by (stream, version): no scan of the log.
_ACTIONS = """
WITH streams AS (
    SELECT 'user-' || id AS stream_id FROM users WHERE clinic_id = $1
    UNION ALL
    SELECT 'care-team-' || id FROM users WHERE clinic_id = $1 AND role = 'client'
    UNION ALL
    SELECT 'clinic-' || $1::text
)
SELECT e.position, e.stream_id, e.event_type, e.data::text AS data,
    e.metadata::text AS metadata, e.recorded_at
FROM streams s JOIN events e ON e.stream_id = s.stream_id
WHERE ($2::timestamptz IS NULL OR e.recorded_at >= $2)
    AND ($3::timestamptz IS NULL OR e.recorded_at < $3)
    AND ($4::bigint IS NULL OR e.position < $4)
ORDER BY e.position DESC LIMIT $5
"""


class AdminAction(msgspec.Struct, frozen=True):
    position: int
    stream_id: str
    event_type: str
    data: str
    metadata: str
    recorded_at: datetime


async def admin_actions(
    conn: Connection,
    clinic_id: UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    before_position: int | None,
    limit: int,
) -> list[AdminAction]:
    rows = await conn.fetch(_ACTIONS, clinic_id, since, until, before_position, limit)
    return [AdminAction(**dict(row)) for row in rows]
