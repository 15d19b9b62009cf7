"""A consumer that follows the whole feed in its order, with one checkpoint of its own: for the
events of streams other than goals' (the registry's `Consumer`s fold goal streams, one goal at a
time), such as the nudges' `nudge-<id>`.

The relay runs each one after its own batches, in its loop (services/worker/relay.py). A batch
is one transaction: the events after the checkpoint are read (the feed's fence, see
infra/eventstore/store.py, means none is ever passed over), handed to the consumer's `handle`,
and the checkpoint moved past them with whatever `handle` wrote. A crash in between writes
neither, and the same batch is read again.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import checkpoint_of, read_all
from infra.projections.feed import read_checkpoint, save_checkpoint

HandleBatch = Callable[[Connection, list[RecordedEvent]], Awaitable[None]]
"""Does the consumer's work for the next events of the feed, on `conn`, inside the transaction
that moves its checkpoint; every event comes, whatever its stream, to be picked from."""

# Two worker services each run the feed consumers: one of them does a batch at a time.
_TRY_ALONE = "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 10))"


@dataclass(frozen=True)
class FeedConsumer:
    name: str
    """Stable: it names the consumer's checkpoint and metrics."""
    follow: Callable[[Connection], Awaitable[int]]
    """Handles the next batch of the feed; says how many events it read (0: caught up, or
    another process has it)."""


def feed_follower(name: str, handle: HandleBatch, batch: int = 1000) -> FeedConsumer:
    async def follow(conn: Connection) -> int:
        async with conn.transaction():
            if not await conn.fetchval(_TRY_ALONE, name):
                return 0
            events = await read_all(conn, await read_checkpoint(conn, name), batch)
            if not events:
                return 0
            await handle(conn, events)
            await save_checkpoint(conn, name, checkpoint_of(events[-1]))
            return len(events)

    return FeedConsumer(name, follow)
