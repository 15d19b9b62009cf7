"""Checking the log's signed checkpoints, in order: each one's signature with the operator's
public key, its link to the checkpoint before it, and its digest recomputed from the hashes of
the events in its window (infra/audit/checkpoints.py). What is reported names a checkpoint,
never an event: the checkpoints cover every clinic."""

from datetime import datetime
from typing import Literal

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.audit.chain import GENESIS
from domain.audit.checkpoints import checkpoint_message
from infra.audit.checkpoints import StoredCheckpoint, fold_window, stored_checkpoints
from infra.audit.signing import raw_public_key, signature_holds
from infra.db.connection import Connection

CheckpointProblemKind = Literal[
    "sequence_broken", "signed_by_another_key", "signature_invalid", "events_changed"
]


class CheckpointProblem(msgspec.Struct, frozen=True):
    sequence: int
    kind: CheckpointProblemKind
    detail: str


class CheckpointChecks:
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


async def check_checkpoints(conn: Connection, key: Ed25519PublicKey | None) -> CheckpointChecks:
    """Every checkpoint checked, in the caller's transaction."""
    checks = CheckpointChecks(key)
    async for checkpoint in stored_checkpoints(conn):
        await checks.check(conn, checkpoint)
    return checks
