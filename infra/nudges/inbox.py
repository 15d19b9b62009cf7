"""A person's in-app inbox: the nudges sent to them in-app, newest first, and marking one read."""

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from domain.nudges.nudge import NudgeKind
from infra.db.connection import Connection


class InboxNudge(msgspec.Struct, frozen=True):
    id: UUID
    kind: NudgeKind
    goal_id: UUID | None
    message: str
    sent_at: datetime
    read_at: datetime | None


_COLUMNS = "id, kind, goal_id, message, sent_at, read_at"
# Only the recipient's own, in their own clinic, and only what went out in-app.
_MINE = "recipient_id = $1 AND clinic_id = $2 AND status = 'sent' AND 'in_app' = ANY (channels)"


def _nudge(row: asyncpg.Record) -> InboxNudge:
    return InboxNudge(**{field: row[field] for field in InboxNudge.__struct_fields__})


async def newest(
    conn: Connection,
    user_id: UUID,
    clinic_id: UUID,
    *,
    before: tuple[datetime, UUID] | None,
    limit: int,
) -> list[InboxNudge]:
    """The user's nudges in order of (sent_at, id), newest first, after the last one seen."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM nudges
        WHERE {_MINE} AND ($3::timestamptz IS NULL OR (sent_at, id) < ($3, $4::uuid))
        ORDER BY sent_at DESC, id DESC
        LIMIT $5
        """,  # noqa: S608 - constant fragments
        user_id,
        clinic_id,
        None if before is None else before[0],
        None if before is None else before[1],
        limit,
    )
    return [_nudge(row) for row in rows]


async def mark_read(
    conn: Connection, user_id: UUID, clinic_id: UUID, nudge_id: UUID
) -> InboxNudge | None:
    """Marks the nudge read, once (reading it again keeps the first time); None if it is not
    one of the user's."""
    row = await conn.fetchrow(
        f"""
        UPDATE nudges SET read_at = coalesce(read_at, now())
        WHERE id = $3 AND {_MINE}
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - constant fragments
        user_id,
        clinic_id,
        nudge_id,
    )
    return None if row is None else _nudge(row)


async def one(
    conn: Connection, user_id: UUID, clinic_id: UUID, nudge_id: UUID
) -> InboxNudge | None:
    """One of the user's sent nudges, by whichever channel it went (an e-mail links to it);
    None if it is not one of theirs."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM nudges"  # noqa: S608 - constant fragments
        " WHERE id = $3 AND recipient_id = $1 AND clinic_id = $2 AND status = 'sent'",
        user_id,
        clinic_id,
        nudge_id,
    )
    return None if row is None else _nudge(row)
