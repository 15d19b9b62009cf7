"""Storing nudges under their keys: the one way a nudge goes in (migration 0010)."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from domain.nudges.nudge import Nudge
from infra.db.connection import Connection

# A nudge's id follows from its key, so that whatever stores it again names the same one.
_NUDGE_IDS = uuid.UUID("5b0f4f6e-9a53-4c55-9d1c-6a3f2f1b8e21")

_STORE = """
INSERT INTO nudges (id, key, kind, recipient_id, clinic_id, goal_id, message, created_at,
    deliver_at, stale_at, correlation_id, causation_id)
SELECT n.id, n.key, n.kind, n.recipient_id, n.clinic_id, n.goal_id, n.message, $9,
    n.deliver_at, n.stale_at, n.correlation_id, n.causation_id
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[],
    $8::timestamptz[], $10::timestamptz[], $11::text[], $12::text[])
    AS n (id, key, kind, recipient_id, clinic_id, goal_id, message, deliver_at, stale_at,
        correlation_id, causation_id)
-- Only to someone active, of the clinic the nudge is of.
WHERE EXISTS (SELECT FROM users u WHERE u.id = n.recipient_id AND u.clinic_id = n.clinic_id
    AND u.deactivated_at IS NULL)
-- The id follows from the key: a nudge found again is known by its primary key, which is quicker
-- to look up than its long key.
ON CONFLICT (id) DO NOTHING
RETURNING id
"""


class Origin(msgspec.Struct, frozen=True, gc=False):
    """What a nudge was found in: the flow's correlation id, and the event that called for it."""

    correlation_id: str
    causation_id: str | None = None


_KNOWN = "SELECT id FROM nudges WHERE id = ANY ($1::uuid[])"


def nudge_id(key: str) -> UUID:
    return uuid.uuid5(_NUDGE_IDS, key)


async def store(
    conn: Connection,
    nudges: Sequence[Nudge],
    *,
    now: datetime,
    origins: Sequence[Origin],
) -> list[UUID]:
    """Stores the nudges not stored before, as pending; returns their ids. `origins` says, for
    each nudge, the flow it belongs to. A nudge for someone deactivated is not stored."""
    ids = [nudge_id(nudge.key) for nudge in nudges]
    # Most of what a scan finds was stored by an earlier one: ask for the ids alone first, so
    # that only new nudges travel whole.
    known = {row["id"] for row in await conn.fetch(_KNOWN, ids)}
    fresh = [index for index, found in enumerate(ids) if found not in known]
    if not fresh:
        return []
    nudges = [nudges[index] for index in fresh]
    origins = [origins[index] for index in fresh]
    rows = await conn.fetch(
        _STORE,
        [ids[index] for index in fresh],
        [nudge.key for nudge in nudges],
        [nudge.kind for nudge in nudges],
        [nudge.recipient_id for nudge in nudges],
        [nudge.clinic_id for nudge in nudges],
        [nudge.goal_id for nudge in nudges],
        [nudge.message for nudge in nudges],
        [nudge.deliver_at for nudge in nudges],
        now,
        [nudge.stale_at for nudge in nudges],
        [origin.correlation_id for origin in origins],
        [origin.causation_id for origin in origins],
    )
    return [row["id"] for row in rows]
