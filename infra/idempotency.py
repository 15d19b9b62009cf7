"""Idempotency keys (migration 0002): the first response to a key, kept with the request's own
writes, so that a retried request returns it and writes nothing."""

from uuid import UUID

import msgspec

from infra.db.connection import Connection


class StoredResponse(msgspec.Struct, frozen=True):
    fingerprint: bytes
    status_code: int
    body: bytes


async def claim(
    conn: Connection, actor_id: UUID, key: str, fingerprint: bytes
) -> StoredResponse | None:
    """None if this request holds the key now; otherwise what the first request answered.

    A concurrent request with the same key waits here until the first one commits (and then
    gets its response) or rolls back (and then holds the key itself).
    """
    claimed = await conn.fetchval(
        """
        INSERT INTO idempotency_keys (actor_id, key, fingerprint) VALUES ($1, $2, $3)
        ON CONFLICT DO NOTHING RETURNING 1
        """,
        actor_id,
        key,
        fingerprint,
    )
    if claimed is not None:
        return None
    row = await conn.fetchrow(
        "SELECT fingerprint, status_code, body FROM idempotency_keys "
        "WHERE actor_id = $1 AND key = $2",
        actor_id,
        key,
    )
    if row is None or row["status_code"] is None:
        raise RuntimeError("an idempotency key was claimed without a response")
    return StoredResponse(row["fingerprint"], row["status_code"], row["body"])


async def remember(
    conn: Connection, actor_id: UUID, key: str, status_code: int, body: bytes
) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET status_code = $3, body = $4 WHERE actor_id = $1 AND key = $2",
        actor_id,
        key,
        status_code,
        body,
    )
