"""Reads and writes of tokens and invitations (migrations 0002 and 0006)."""

from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from infra.db.connection import Connection

MAX_GENERATIONS = 8
"""How many tokens deep a chain of tokens minted from tokens may go, so that the token check,
which looks at every ancestor, stays a handful of index lookups."""


class IssuedToken(msgspec.Struct, frozen=True):
    id: UUID
    user_id: UUID
    expires_at: datetime


class TokenRequest(msgspec.Struct, frozen=True):
    token_id: UUID
    user_id: UUID
    lifetime: timedelta
    parent_id: UUID | None = None
    issued_by: UUID | None = None
    invitation_id: UUID | None = None


class TokenRecord(msgspec.Struct, frozen=True):
    """What is known of a token, but never its secret nor the secret's hash."""

    id: UUID
    user_id: UUID
    parent_id: UUID | None
    issued_by: UUID | None
    invitation_id: UUID | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class ParentTooDeep(Exception):
    pass


# The lifetime is cut to the clinic's longest and to the parent's remaining one (`least`
# ignores the NULL of a token without a parent).
_INSERT_CREDENTIAL = """
INSERT INTO access_tokens (
    id, user_id, secret_hash, expires_at, parent_id, issued_by, invitation_id, ancestors
)
SELECT $1, u.id, $3,
    least(now() + $4::interval, now() + make_interval(days => c.max_token_lifetime_days),
          p.expires_at),
    p.id, $6, $7, CASE WHEN p.id IS NULL THEN '{}' ELSE p.ancestors || p.id END
FROM users u
JOIN clinics c ON c.id = u.clinic_id
LEFT JOIN access_tokens p ON p.id = $5
WHERE u.id = $2 AND ($5::uuid IS NULL OR p.id IS NOT NULL)
RETURNING expires_at, cardinality(ancestors) AS generation
"""


async def insert_token(conn: Connection, request: TokenRequest, secret_hash: bytes) -> IssuedToken:
    row = await conn.fetchrow(
        _INSERT_CREDENTIAL,
        request.token_id,
        request.user_id,
        secret_hash,
        request.lifetime,
        request.parent_id,
        request.issued_by,
        request.invitation_id,
    )
    if row is None:
        raise LookupError("no such user or parent token")
    if row["generation"] > MAX_GENERATIONS:
        raise ParentTooDeep(request.parent_id)
    return IssuedToken(request.token_id, request.user_id, row["expires_at"])


async def revoke_token_tree(conn: Connection, token_id: UUID) -> list[UUID]:
    """Revokes the token and its live descendants; the ids revoked, the named one first."""
    rows = await conn.fetch(
        """
        UPDATE access_tokens SET revoked_at = now()
        WHERE (id = $1 OR ancestors @> ARRAY[$1::uuid]) AND revoked_at IS NULL
        RETURNING id, cardinality(ancestors) AS generation
        """,
        token_id,
    )
    return [row["id"] for row in sorted(rows, key=lambda row: (row["generation"], row["id"]))]


async def revoke_tokens_of(conn: Connection, user_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        """
        UPDATE access_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL
        RETURNING id
        """,
        user_id,
    )
    return sorted(row["id"] for row in rows)


async def token_owner(conn: Connection, token_id: UUID, clinic_id: UUID) -> UUID | None:
    """The owner of a token of the clinic, revoked or not."""
    owner = await conn.fetchval(
        """
        SELECT t.user_id FROM access_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.id = $1 AND u.clinic_id = $2
        """,
        token_id,
        clinic_id,
    )
    return None if owner is None else UUID(str(owner))


async def tokens_of(
    conn: Connection, user_id: UUID, after: tuple[datetime, UUID] | None, limit: int
) -> list[TokenRecord]:
    """The user's tokens, newest first, after the (created_at, id) of the last one seen."""
    rows = await conn.fetch(
        """
        SELECT id, user_id, parent_id, issued_by, invitation_id, created_at, expires_at,
            revoked_at
        FROM access_tokens
        WHERE user_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $4
        """,
        user_id,
        None if after is None else after[0],
        None if after is None else after[1],
        limit,
    )
    return [TokenRecord(**dict(row)) for row in rows]


async def withdraw_invitations_of(conn: Connection, user_id: UUID) -> list[UUID]:
    """Withdraws the user's invitations that could still be redeemed."""
    rows = await conn.fetch(
        """
        UPDATE invitations SET withdrawn_at = now()
        WHERE user_id = $1 AND redeemed_at IS NULL AND withdrawn_at IS NULL
            AND expires_at > now()
        RETURNING id
        """,
        user_id,
    )
    return sorted(row["id"] for row in rows)
