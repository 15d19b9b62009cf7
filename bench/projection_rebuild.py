"""Projection rebuild rate: `goals projections rebuild` over a log of a million events.

    uv run python -m bench.projection_rebuild [--events 1000000] [--goals 20000]

Creates a scratch database `goals_bench_<random>` on the server that `DATABASE_URL` names, fills
its log with goal histories (a goal set, then check-ins and the odd adjustment, correction and
rating) written straight into `events` with COPY, rebuilds the goal projection from it, and drops
the database. Reports events per second and the peak memory of this process.
"""

import argparse
import asyncio
import os
import random
import resource
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import msgspec

from domain.goals.events import (
    CorrectionRecorded,
    GoalAdjusted,
    GoalEvent,
    GoalRated,
    GoalSet,
    ProgressRecorded,
    TermsChange,
)
from domain.goals.terms import GoalTerms, Measure
from infra.db.migrate import migrate
from infra.db.pool import create_database_if_missing, drop_database, url_for_database
from infra.eventstore import codec
from infra.eventstore.envelope import Metadata
from infra.projections.rebuild import rebuild_goal_summaries

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_EVENTS_PER_SECOND = 20_000
START = datetime(2026, 1, 5, 9, tzinfo=UTC)
_encode = msgspec.json.Encoder().encode


def _terms(index: int) -> GoalTerms:
    return GoalTerms(
        statement=f"Walk for 30 minutes, goal {index}",
        life_area="physical_health",
        values=("health",),
        measure=Measure("count", 3, "walks", "per_week"),
        cue="When I finish lunch, I will walk",
        start_date=date(2026, 1, 5),
        due_date=date(2026, 12, 31),
        priority="medium",
        time_zone="Europe/Berlin",
    )


def _history(goal_id: uuid.UUID, index: int, length: int, chance: random.Random) -> list[GoalEvent]:
    events: list[GoalEvent] = [GoalSet(goal_id, uuid.uuid4(), _terms(index))]
    check_ins: list[uuid.UUID] = []
    while len(events) < length:
        roll = chance.random()
        if roll < 0.02:
            change = TermsChange(statement=f"Walk for 20 minutes, goal {index}")
            events.append(GoalAdjusted(goal_id, TermsChange(), change, "a busy month"))
        elif roll < 0.03 and check_ins:
            events.append(CorrectionRecorded(goal_id, "check_in", "typo", check_ins.pop()))
        elif roll < 0.04:
            events.append(GoalRated(goal_id, chance.randint(-2, 2)))
        else:
            check_in = uuid.uuid4()
            check_ins.append(check_in)
            occurred = START + timedelta(hours=len(events) * 7)
            events.append(ProgressRecorded(goal_id, check_in, 1, occurred, None))
    return events


def _rows(events: int, goals: int, clinic: uuid.UUID) -> Iterator[tuple[object, ...]]:
    chance = random.Random(7)
    metadata = _encode(Metadata(uuid.uuid4(), "therapist", clinic, "bench")).decode()
    per_goal, extra = divmod(events, goals)
    for index in range(goals):
        goal_id = uuid.uuid4()
        history = _history(goal_id, index, per_goal + (index < extra), chance)
        for version, event in enumerate(history, start=1):
            yield (
                f"goal-{goal_id}",
                version,
                uuid.uuid4(),
                codec.event_type(event),
                codec.encode_event(event),
                metadata,
            )


async def _fill(conn: asyncpg.Connection, events: int, goals: int) -> None:
    columns = ["stream_id", "stream_version", "event_id", "event_type", "data", "metadata"]
    batch: list[tuple[object, ...]] = []
    for row in _rows(events, goals, uuid.uuid4()):
        batch.append(row)
        if len(batch) == 50_000:
            await conn.copy_records_to_table("events", records=batch, columns=columns)
            batch.clear()
    if batch:
        await conn.copy_records_to_table("events", records=batch, columns=columns)
    await conn.execute(
        "INSERT INTO streams (stream_id, version) "
        "SELECT stream_id, max(stream_version) FROM events GROUP BY stream_id"
    )
    await conn.execute("ANALYZE events")


async def main(arguments: argparse.Namespace) -> None:
    server = os.environ.get("DATABASE_URL", DEFAULT_SERVER_URL)
    url = url_for_database(server, f"goals_bench_{secrets.token_hex(4)}")
    await create_database_if_missing(url)
    try:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
            filled = time.perf_counter()
            await _fill(conn, arguments.events, arguments.goals)
            print(
                f"log filled with {arguments.events:,} events "
                f"in {time.perf_counter() - filled:.1f} s"
            )
            started = time.perf_counter()
            goals = (await rebuild_goal_summaries(conn, lambda done, total: None)).goals
            seconds = time.perf_counter() - started
        finally:
            await conn.close()
    finally:
        await drop_database(url)
    rate = arguments.events / seconds
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rebuilt {goals:,} goals from {arguments.events:,} events in {seconds:.1f} s")
    print(
        f"rate: {rate:,.0f} events/s (target {TARGET_EVENTS_PER_SECOND:,}); "
        f"peak memory of this process: {peak_mib:,.0f} MiB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--goals", type=int, default=20_000)
    asyncio.run(main(parser.parse_args()))
