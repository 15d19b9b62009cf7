"""A small log for the tamper-evidence tests, and tampering as a superuser does it: in SQL, the
log's append-only trigger skipped (`session_replication_role = replica`, which skips the hash
trigger too, so whatever hashes the tamperer writes are kept)."""

import uuid

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infra.audit.verification import Verification, verify_log
from infra.db.connection import Connection
from infra.eventstore.store import append
from tests.integration.eventstore.events import METADATA, new_event

STREAMS = {"stream-a": 5, "stream-b": 5, "stream-c": 3}
CLINIC = METADATA.clinic_id


async def write_log(conn: Connection) -> None:
    """The streams' events, interleaved: version 1 of each stream, then version 2 of each..."""
    for version in range(1, max(STREAMS.values()) + 1):
        for stream, length in STREAMS.items():
            if version <= length:
                await append(conn, stream, version - 1, [new_event(f"{stream} {version}")])


async def position_of(conn: Connection, stream: str, version: int) -> int:
    position = await conn.fetchval(
        "SELECT position FROM events WHERE stream_id = $1 AND stream_version = $2", stream, version
    )
    assert isinstance(position, int)
    return position


async def tamper(admin: Connection, *statements: str) -> None:
    """Runs `statements` in one transaction with every trigger skipped."""
    async with admin.transaction():
        await admin.execute("SET LOCAL session_replication_role = replica")
        for statement in statements:
            await admin.execute(statement)


async def verified(
    pool: asyncpg.Pool, key: Ed25519PrivateKey | None = None, clinic: uuid.UUID | None = None
) -> Verification:
    return await verify_log(pool, clinic, None if key is None else key.public_key())
