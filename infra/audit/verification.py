"""Verifying the event log: every stream's hash chain, then every signed checkpoint.

1. The chains, in (stream_id, stream_version) order, of one clinic or of all: each event's hash
   recomputed from its fields, its link to the event before it, its version, and each stream's
   last version against its head (domain/audit/chain.py, infra/audit/chain_walk.py). A clinic's
   streams are those whose first event names it: a stream's later events may name none (a token
   redeemed by no one yet signed in).
2. The checkpoints, in order, over the whole log (infra/audit/checkpoint_checks.py). Only a
   checkpoint's number and what failed are reported, never another clinic's events.

Both run at once on several connections, every one in the same REPEATABLE READ READ ONLY
snapshot (exported by the first, imported by the others), so that the chains, the heads and the
checkpoints are all seen as of one moment while appends go on. A read-only transaction takes no
transaction id: the feed is not held back however long it runs. Each connection holds one batch
of rows at a time; the memory does not grow with the log.
"""

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.audit.chain import Break, Breaks
from infra.audit.chain_walk import headless_breaks, stream_ranges, walk_range
from infra.audit.checkpoint_checks import CheckpointProblem, check_checkpoints

WALKERS = 2
"""Connections that walk the chains at once (one more checks the checkpoints)."""


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


async def verify_log(
    pool: asyncpg.Pool,
    clinic_id: UUID | None,
    key: Ed25519PublicKey | None,
    progress: Callable[[int], None] | None = None,
    *,
    walkers: int = WALKERS,
    acquire_timeout: float | None = None,
) -> Verification:
    """Verifies the chains of `clinic_id`'s events (all, when None) and every checkpoint, on
    `walkers + 1` of the pool's connections, each waited for at most `acquire_timeout` seconds.
    `progress` hears how many events were walked."""
    walked = 0

    def count(batch: int) -> None:
        nonlocal walked
        walked += batch
        if progress is not None:
            progress(walked)

    async with AsyncExitStack() as stack:
        conns = [
            await stack.enter_async_context(pool.acquire(timeout=acquire_timeout))
            for _ in range(walkers + 1)
        ]
        leader, *others = conns
        await stack.enter_async_context(
            leader.transaction(isolation="repeatable_read", readonly=True)
        )
        snapshot = await leader.fetchval("SELECT pg_export_snapshot()")
        for conn in others:
            await stack.enter_async_context(
                conn.transaction(isolation="repeatable_read", readonly=True)
            )
            await conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        ranges = await stream_ranges(leader, walkers)
        walks = [
            walk_range(conn, clinic_id, streams, count)
            for conn, streams in zip(conns, ranges, strict=False)
        ]
        walked_ranges, checks = await asyncio.gather(
            asyncio.gather(*walks), check_checkpoints(conns[-1], key)
        )
        headless = [] if clinic_id is not None else await headless_breaks(leader)
    breaks = _merged([found for found, _ in walked_ranges], headless)
    problems = checks.problems
    return Verification(
        intact=breaks.count == 0 and problems == 0,
        clinic_id=clinic_id,
        events=sum(events for _, events in walked_ranges),
        breaks=breaks.count,
        first_break=breaks.first,
        checkpoints=checks.seen,
        checkpoint_problems=problems,
        first_checkpoint_problem=checks.first,
        signatures_checked=key is not None,
        whole_at=checks.last_taken_at if problems == 0 else None,
    )


def _merged(walks: list[Breaks], headless: list[Break]) -> Breaks:
    merged = Breaks()
    for walk in walks:
        merged.merge(walk)
    for found in headless:
        merged.add(found)
    return merged
