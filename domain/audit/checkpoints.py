"""Signed checkpoints of the event log: the digest that folds every event's hash, in the feed's
order, up to a fence, and the message a checkpoint's signature covers."""

from hashlib import sha256

import msgspec

from domain.audit.chain import netstring


class WindowDigest:
    """A checkpoint's digest: sha256 over the previous checkpoint's digest (`GENESIS` before the
    first) and the hashes of the events between the two checkpoints' fences, in the feed's
    order, (transaction_id, position)."""

    def __init__(self, previous_digest: bytes) -> None:
        self._hasher = sha256(previous_digest)
        self.events = 0

    def add(self, event_hash: bytes) -> None:
        self._hasher.update(event_hash)
        self.events += 1

    def digest(self) -> bytes:
        return self._hasher.digest()


class CheckpointFacts(msgspec.Struct, frozen=True, gc=False):
    """What a checkpoint says: after `sequence - 1` others, every event whose transaction id is
    below `fence` (`events` of them in all, the highest at `last_position`) gives `digest`, as
    the log stood at `taken_at_us` (microseconds since 1970)."""

    sequence: int
    fence: int
    events: int
    last_position: int
    previous_digest: bytes
    digest: bytes
    taken_at_us: int


def checkpoint_message(facts: CheckpointFacts) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return b"goals-audit-checkpoint/1\n" + b"".join(
        (
            netstring(str(facts.sequence)),
            netstring(str(facts.fence)),
            netstring(str(facts.events)),
            netstring(str(facts.last_position)),
            netstring(facts.previous_digest.hex()),
            netstring(facts.digest.hex()),
            netstring(str(facts.taken_at_us)),
        )
    )
