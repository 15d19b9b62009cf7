"""Verifying the event log: every stream's hash chain, then every signed checkpoint.

One read-only REPEATABLE READ transaction, so that the chains, the heads and the checkpoints are
all seen as of one moment while appends go on, and no transaction id is taken: the feed is not
held back however long it runs. Both walks read through server-side cursors a batch at a time,
keeping only the event before (its stream, version and hash) and the first break: the memory
does not grow with the log.

1. The chains, in (stream_id, stream_version) order, of one clinic or of all: each event's hash
   recomputed from its fields, its link to the event before it, its version, and each stream's
   last version against its head (domain/audit/chain.py). A clinic's streams are those whose
   first event names it: a stream's later events may name none (a token redeemed by no one
   yet signed in).
2. The checkpoints, in order, over the whole log: each one's signature (with the operator's
   public key), its link to the checkpoint before it, and its digest recomputed from the hashes
   of the events in its window. Only a checkpoint's number and what failed are reported, never
   another clinic's events.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.audit.chain import GENESIS, Break, Breaks, ChainLink, StreamWalk, head_break
from domain.audit.checkpoints import checkpoint_message
from infra.audit.checkpoints import StoredCheckpoint, fold_window, stored_checkpoints
from infra.audit.signing import raw_public_key, signature_holds
from infra.db.connection import Connection

ROWS_PER_FETCH = 5_000

# The events of clinic $1 (all, when null): those of the streams whose first event names it.
_IN_SCOPE = """($1::text IS NULL OR e.stream_id IN (
    SELECT stream_id FROM events
    WHERE stream_version = 1
        AND coalesce(metadata ->> 'clinic_id', data ->> 'clinic_id') = $1::text
))"""

# `canonical` (domain/audit/chain.py) spelled by the database, in this query's own text: the
# verifier calls no function the database holds.
_WALK = f"""
SELECT e.position, e.stream_id, e.stream_version, e.previous_hash, e.hash, h.version AS head,
    convert_to(
        octet_length(e.position::text) || ':' || e.position::text || ','
        || octet_length(e.transaction_id::text) || ':' || e.transaction_id::text || ','
        || octet_length(e.stream_id) || ':' || e.stream_id || ','
        || octet_length(e.stream_version::text) || ':' || e.stream_version::text || ','
        || '36:' || e.event_id::text || ','
        || octet_length(e.event_type) || ':' || e.event_type || ','
        || octet_length(f.recorded) || ':' || f.recorded || ','
        || octet_length(f.data) || ':' || f.data || ','
        || octet_length(f.metadata) || ':' || f.metadata || ',', 'UTF8') AS content
FROM events e
CROSS JOIN LATERAL (
    SELECT (extract(epoch FROM e.recorded_at) * 1000000)::bigint::text AS recorded,
        e.data::text AS data, e.metadata::text AS metadata
) f
LEFT JOIN LATERAL (SELECT version FROM streams s WHERE s.stream_id = e.stream_id) h ON true
WHERE {_IN_SCOPE}
ORDER BY e.stream_id, e.stream_version
"""  # noqa: S608 - constant fragments

_EVENTS_IN_SCOPE = f"SELECT count(*) FROM events e WHERE {_IN_SCOPE}"  # noqa: S608

# Heads of streams that have no event left at all (the whole log only: such a stream names no
# clinic).
_EMPTY_HEADS = """
SELECT s.stream_id, s.version FROM streams s
WHERE NOT EXISTS (SELECT FROM events e WHERE e.stream_id = s.stream_id)
ORDER BY s.stream_id
"""

CheckpointProblemKind = Literal[
    "sequence_broken", "signed_by_another_key", "signature_invalid", "events_changed"
]


class CheckpointProblem(msgspec.Struct, frozen=True):
    sequence: int
    kind: CheckpointProblemKind
    detail: str


class Verification(msgspec.Struct, frozen=True):
    """What a verification found. `intact` when no link and no checkpoint failed."""

    intact: bool
    clinic_id: UUID | None
    events: int
    breaks: int
    first_break: Break | None
    checkpoints: int
    checkpoint_problems: int
    first_checkpoint_problem: CheckpointProblem | None
    signatures_checked: bool
    """False when no public key is configured: digests and links checked, signatures not."""
    whole_at: datetime | None
    """When the last checkpoint was taken, if every checkpoint verified: the log was whole
    then."""


async def events_to_verify(conn: Connection, clinic_id: UUID | None) -> int:
    """How many events a verification of `clinic_id` (all, when None) walks now."""
    return int(await conn.fetchval(_EVENTS_IN_SCOPE, _scope(clinic_id)))


def _scope(clinic_id: UUID | None) -> str | None:
    return None if clinic_id is None else str(clinic_id)


async def verify_log(
    conn: Connection,
    clinic_id: UUID | None,
    key: Ed25519PublicKey | None,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Verifies the chains of `clinic_id`'s events (all, when None) and every checkpoint."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        breaks, events = await _walk_chains(conn, clinic_id, progress)
        checkpoints = _CheckpointChecks(key)
        async for checkpoint in stored_checkpoints(conn):
            await checkpoints.check(conn, checkpoint)
    problems = checkpoints.problems
    return Verification(
        intact=breaks.count == 0 and problems == 0,
        clinic_id=clinic_id,
        events=events,
        breaks=breaks.count,
        first_break=breaks.first,
        checkpoints=checkpoints.seen,
        checkpoint_problems=problems,
        first_checkpoint_problem=checkpoints.first,
        signatures_checked=key is not None,
        whole_at=checkpoints.last_taken_at if problems == 0 else None,
    )


async def _walk_chains(
    conn: Connection, clinic_id: UUID | None, progress: Callable[[int], None] | None
) -> tuple[Breaks, int]:
    breaks = Breaks()
    walk = StreamWalk()
    events = 0
    cursor = await conn.cursor(_WALK, _scope(clinic_id))
    while rows := await cursor.fetch(ROWS_PER_FETCH):
        for row in rows:
            link = ChainLink(
                row["position"],
                row["stream_id"],
                row["stream_version"],
                row["content"],
                row["previous_hash"],
                row["hash"],
                row["head"],
            )
            for found in walk.check(link):
                breaks.add(found)
        events += len(rows)
        if progress is not None:
            progress(events)
    for found in walk.finish():
        breaks.add(found)
    if clinic_id is None:
        for row in await conn.fetch(_EMPTY_HEADS):
            breaks.add(head_break(row["stream_id"], row["version"], 0, 0))
    return breaks, events


class _CheckpointChecks:
    """Checks checkpoints given in sequence order, keeping only the one before."""

    def __init__(self, key: Ed25519PublicKey | None) -> None:
        self._key = key
        self._raw_key = None if key is None else raw_public_key(key)
        self._before: StoredCheckpoint | None = None
        self.seen = 0
        self.problems = 0
        self.first: CheckpointProblem | None = None
        self.last_taken_at: datetime | None = None

    def _problem(self, sequence: int, kind: CheckpointProblemKind, detail: str) -> None:
        self.problems += 1
        if self.first is None:
            self.first = CheckpointProblem(sequence, kind, detail)

    async def check(self, conn: Connection, checkpoint: StoredCheckpoint) -> None:
        facts = checkpoint.facts
        before = None if self._before is None else self._before.facts
        self.seen += 1
        self.last_taken_at = checkpoint.taken_at
        self._before = checkpoint
        expected_sequence = 1 if before is None else before.sequence + 1
        expected_previous = GENESIS if before is None else before.digest
        if facts.sequence != expected_sequence or facts.previous_digest != expected_previous:
            self._problem(
                facts.sequence,
                "sequence_broken",
                f"follows checkpoint {expected_sequence - 1} but does not continue its digest",
            )
        if self._key is not None and self._raw_key is not None:
            if checkpoint.public_key != self._raw_key:
                self._problem(facts.sequence, "signed_by_another_key", "not the operator's key")
            elif not signature_holds(self._key, checkpoint.signature, checkpoint_message(facts)):
                self._problem(facts.sequence, "signature_invalid", "its signature does not hold")
        after_fence = 0 if before is None else before.fence
        window = await fold_window(conn, facts.previous_digest, after_fence, facts.fence)
        counted = (0 if before is None else before.events) + window.events
        if window.digest != facts.digest or counted != facts.events:
            self._problem(
                facts.sequence,
                "events_changed",
                f"the events before its fence give another digest: {counted} events, "
                f"{facts.events} signed; an event below it was edited, removed, inserted or "
                "moved",
            )
