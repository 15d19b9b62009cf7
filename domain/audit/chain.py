"""The event log's hash chain: what an event's hash covers, and how a walk over the log, stream
by stream, finds the links that do not hold.

Each event's hash is sha256 over the hash of the event before it in its stream (32 zero bytes
for a stream's first event) and the event's canonical content (`canonical`): every stored field
as `<length in UTF-8 bytes>:<text>,`, so that no two contents give the same bytes. The database
computes the hash when it inserts a row (migration 0015). The verifier has the database spell
each event's canonical content with an expression of its own query (PostgreSQL writes jsonb as
text faster than Python could), hashes it here, and so never trusts a function the database
holds; tests hold both SQL spellings to `canonical`.

What a walk finds, event by event (the event named is where the link breaks):

- `content_changed`: the event's fields do not give its hash: a field was edited, or two
  events' fields (their positions, versions, bodies) were swapped.
- `version_missing`: the stream skips versions: an event was removed, or the later ones
  renumbered.
- `link_broken`: the event's `previous_hash` is not the hash of the event before it: an event
  before it was replaced, or one was inserted, with a hash recomputed to match its own content.
- `head_mismatch`: the stream's head (its row in `streams`) is at another version than its last
  event: an event at the end was removed, or one added without the head.
"""

from hashlib import sha256
from typing import Literal

import msgspec

GENESIS = bytes(32)
"""The `previous_hash` of every stream's first event."""

BreakKind = Literal["content_changed", "version_missing", "link_broken", "head_mismatch"]


class EventFields(msgspec.Struct, frozen=True, gc=False):
    """What an event's hash covers: every stored field but the hashes, in its canonical text."""

    position: int
    transaction_id: int
    stream_id: str
    stream_version: int
    event_id: str
    """The UUID in its 36-character lower-case form."""
    event_type: str
    recorded_at_us: int
    """Microseconds since 1970-01-01 UTC."""
    data: str
    """As PostgreSQL writes jsonb as text."""
    metadata: str


class ChainLink(msgspec.Struct, frozen=True, gc=False):
    """An event as the walk sees it: where it is, its canonical content and its two hashes."""

    position: int
    stream_id: str
    stream_version: int
    content: bytes
    """`canonical` of its fields."""
    previous_hash: bytes
    hash: bytes
    head: int | None
    """The version its stream's head is at (None: the stream has no head)."""


class Break(msgspec.Struct, frozen=True, gc=False):
    """The first link of a stream that does not hold, at the event at `position`."""

    kind: BreakKind
    position: int
    stream_id: str
    stream_version: int
    detail: str


def netstring(text: str) -> bytes:
    """`text` as `<length in UTF-8 bytes>:<text>,`."""
    raw = text.encode()
    return b"%d:%b," % (len(raw), raw)


def canonical(event: EventFields) -> bytes:
    """The bytes an event's hash covers, after the previous hash."""
    return b"".join(
        (
            netstring(str(event.position)),
            netstring(str(event.transaction_id)),
            netstring(event.stream_id),
            netstring(str(event.stream_version)),
            netstring(event.event_id),
            netstring(event.event_type),
            netstring(str(event.recorded_at_us)),
            netstring(event.data),
            netstring(event.metadata),
        )
    )


def link_hash(previous_hash: bytes, content: bytes) -> bytes:
    """An event's hash, from the hash before it and its canonical content."""
    return sha256(previous_hash + content).digest()


class StreamWalk:
    """Checks events given in (stream_id, stream_version) order, one at a time, keeping only the
    event before: its stream, version, position, hash and head."""

    def __init__(self) -> None:
        self._before: ChainLink | None = None

    def check(self, event: ChainLink) -> list[Break]:
        """The breaks found at `event`, and at the end of the stream before it if it ended."""
        before = self._before
        found = []
        if before is not None and before.stream_id != event.stream_id:
            found += self.finish()
            before = None
        if before is None:
            own = _break_at(event, 0, GENESIS)
        else:
            own = _break_at(event, before.stream_version, before.hash)
        if own is not None:
            found.append(own)
        self._before = event
        return found

    def finish(self) -> list[Break]:
        """The break at the end of the last stream given, if its head is not at its last
        event."""
        last = self._before
        self._before = None
        if last is None or last.head == last.stream_version:
            return []
        return [head_break(last.stream_id, last.head, last.stream_version, last.position)]


def _break_at(event: ChainLink, version_before: int, hash_before: bytes) -> Break | None:
    def broken(kind: BreakKind, detail: str) -> Break:
        return Break(kind, event.position, event.stream_id, event.stream_version, detail)

    if link_hash(event.previous_hash, event.content) != event.hash:
        return broken("content_changed", "the event's fields do not give its hash")
    if event.stream_version != version_before + 1:
        return broken(
            "version_missing",
            f"version {event.stream_version} follows version {version_before}",
        )
    if event.previous_hash != hash_before:
        return broken("link_broken", "its previous hash is not the hash of the event before it")
    return None


def head_break(
    stream_id: str, head_version: int | None, last_version: int, last_position: int
) -> Break:
    """The break of a stream whose head is not at its last event's version (None: no head)."""
    head = "no head" if head_version is None else f"its head at version {head_version}"
    return Break(
        "head_mismatch",
        last_position,
        stream_id,
        last_version,
        f"the stream's last event is version {last_version}, {head}",
    )


class Breaks:
    """How many breaks a walk found, and the first of them in the log's order (the lowest
    position): what a report names."""

    def __init__(self) -> None:
        self.count = 0
        self.first: Break | None = None

    def add(self, found: Break) -> None:
        self.count += 1
        if self.first is None or found.position < self.first.position:
            self.first = found

    def merge(self, other: "Breaks") -> None:
        """Adds what another walk found."""
        if other.first is not None:
            self.add(other.first)
            self.count += other.count - 1
