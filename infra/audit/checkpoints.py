"""Signed checkpoints of the event log (migration 0015, docs/audit.md).

A checkpoint covers every event whose transaction id is below a fence: the oldest transaction
still running when the checkpoint's snapshot was taken. Every transaction below it has ended, so
the snapshot holds all of their events, and every event still to come is written by a
transaction at or above it: the feed's own rule (infra/eventstore/store.py), which makes the
windows between fences exact however late an append commits. Positions would not do: one taken
before a fence may commit after it.

Exactly one checkpointer works at a time, whichever holds the advisory lock; a second one finds
it taken and does nothing, and the sequence's primary key refuses a second checkpoint of a
number should anything get past the lock.
"""

from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.audit.chain import GENESIS
from domain.audit.checkpoints import CheckpointFacts, WindowDigest, checkpoint_message
from infra.audit.signing import raw_public_key
from infra.db.connection import Connection

CHECKPOINT_LOCK = 7_140_015
"""Any constant works; it keeps two checkpointers from working at once."""

ROWS_PER_FETCH = 10_000
CHECKPOINTS_PER_FETCH = 500


class StoredCheckpoint(msgspec.Struct, frozen=True):
    facts: CheckpointFacts
    taken_at: datetime
    public_key: bytes
    signature: bytes


_WINDOW = """
SELECT position, hash FROM events
WHERE transaction_id >= $1::text::xid8 AND transaction_id < $2::text::xid8
ORDER BY transaction_id, position
"""

_COLUMNS = """sequence, fence::text AS fence, events, last_position, previous_digest, digest,
taken_at, (extract(epoch FROM taken_at) * 1000000)::bigint AS taken_at_us, public_key, signature"""

_LAST = f"SELECT {_COLUMNS} FROM audit_checkpoints ORDER BY sequence DESC LIMIT 1"  # noqa: S608

_AFTER = f"""
SELECT {_COLUMNS} FROM audit_checkpoints WHERE sequence > $1 ORDER BY sequence LIMIT $2
"""  # noqa: S608

# `taken_at` is the transaction's `now()`, the moment the signed `taken_at_us` was read from.
_STORE = """
INSERT INTO audit_checkpoints (sequence, fence, events, last_position, previous_digest, digest,
    taken_at, public_key, signature)
VALUES ($1, $2::text::xid8, $3, $4, $5, $6, now(), $7, $8)
RETURNING taken_at
"""


def _stored(row: asyncpg.Record) -> StoredCheckpoint:
    facts = CheckpointFacts(
        sequence=row["sequence"],
        fence=int(row["fence"]),
        events=row["events"],
        last_position=row["last_position"],
        previous_digest=row["previous_digest"],
        digest=row["digest"],
        taken_at_us=row["taken_at_us"],
    )
    return StoredCheckpoint(facts, row["taken_at"], row["public_key"], row["signature"])


class Window(msgspec.Struct):
    """What the events of one window fold to."""

    digest: bytes
    events: int
    last_position: int


async def fold_window(
    conn: Connection, previous_digest: bytes, after_fence: int, fence: int
) -> Window:
    """The digest of the events with `after_fence <= transaction_id < fence`, read in batches.
    Runs inside the caller's transaction, so that the window is read in its snapshot."""
    window = WindowDigest(previous_digest)
    last_position = 0
    cursor = await conn.cursor(_WINDOW, str(after_fence), str(fence))
    while rows := await cursor.fetch(ROWS_PER_FETCH):
        for row in rows:
            window.add(row["hash"])
            last_position = max(last_position, row["position"])
    return Window(window.digest(), window.events, last_position)


async def make_checkpoint(
    conn: Connection, key: Ed25519PrivateKey, *, even_if_unchanged: bool = False
) -> StoredCheckpoint | None:
    """Signs a checkpoint of the log as it stands; None if another checkpointer is at work, or
    if no event came since the last checkpoint (unless `even_if_unchanged`)."""
    async with conn.transaction(isolation="repeatable_read"):
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", CHECKPOINT_LOCK):
            return None
        # The snapshot is the transaction's, taken by this first statement: the fence and the
        # events read below belong to it.
        fence = int(await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text"))
        last_row = await conn.fetchrow(_LAST)
        last = None if last_row is None else _stored(last_row).facts
        after_fence = 0 if last is None else last.fence
        previous_digest = GENESIS if last is None else last.digest
        window = await fold_window(conn, previous_digest, after_fence, max(fence, after_fence))
        if window.events == 0 and not even_if_unchanged and last is not None:
            return None
        taken_at_us = int(
            await conn.fetchval("SELECT (extract(epoch FROM now()) * 1000000)::bigint")
        )
        facts = CheckpointFacts(
            sequence=1 if last is None else last.sequence + 1,
            fence=max(fence, after_fence),
            events=(0 if last is None else last.events) + window.events,
            last_position=max(window.last_position, 0 if last is None else last.last_position),
            previous_digest=previous_digest,
            digest=window.digest,
            taken_at_us=taken_at_us,
        )
        signature = key.sign(checkpoint_message(facts))
        public_key = raw_public_key(key.public_key())
        taken_at = await conn.fetchval(
            _STORE,
            facts.sequence,
            str(facts.fence),
            facts.events,
            facts.last_position,
            facts.previous_digest,
            facts.digest,
            public_key,
            signature,
        )
    return StoredCheckpoint(facts, taken_at, public_key, signature)


async def stored_checkpoints(conn: Connection) -> AsyncIterator[StoredCheckpoint]:
    """Every checkpoint in sequence order, a page at a time."""
    after = 0
    while rows := await conn.fetch(_AFTER, after, CHECKPOINTS_PER_FETCH):
        for row in rows:
            yield _stored(row)
        after = rows[-1]["sequence"]
