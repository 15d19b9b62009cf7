"""Event log append throughput: `store.append` against a raw INSERT into the same table.

    uv run python -m bench.append_throughput [--events N] [--tasks 16] [--rounds 9] [--unchained]

Creates a scratch database `goals_bench_<random>` on the server that `DATABASE_URL` names,
migrates it, and drops it at the end. Each task holds its own pooled connection and appends one
event per call to a stream it alone writes, so every call is its own transaction and commit. The
raw phase inserts the same payloads straight into `events`: nothing can append faster through
this schema, so it is the ceiling that `append` is measured against.

With `--unchained`, each round has a third phase: `append` again with the log's hash-chain
trigger (migration 0015) disabled, its columns left empty: what the chain costs an append,
measured against the same machine at the same moments.

The phases alternate and swap order every round, so that the growing table and the machine's
drift weigh on both alike. Rates are the median of the rounds, the ratio the median of the
rounds' own append/raw ratios, latencies the percentiles of every counted call. The ratio is
reported against the target, never asserted: the exit status is non-zero only when something
fails.
"""

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import msgspec

from domain.goals.events import ProgressRecorded
from infra.config import Settings
from infra.db.connection import Connection
from infra.db.migrate import migrate
from infra.db.pool import create_database_if_missing, drop_database, url_for_database
from infra.eventstore.envelope import Metadata, NewEvent
from infra.eventstore.store import append
from infra.goals import codec
from infra.logging import configure_logging

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_RATIO = 0.80
WARMUP_CALLS_PER_TASK = 25

RAW_INSERT = """
INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
VALUES ($1, $2, $3, $4, $5, $6)
"""

WriteOne = Callable[[], Awaitable[None]]
WriterFactory = Callable[[Connection, "Payload"], WriteOne]


@dataclass(frozen=True)
class Payload:
    """What one task writes on every call; only the event id and the check-in's id change from
    call to call (the log holds a check-in id once per goal: migration 0008)."""

    event_type: str
    data_of: Callable[[], str]
    metadata: Metadata
    metadata_json: str


@dataclass(frozen=True)
class PhaseResult:
    events: int
    seconds: float
    latencies_ns: list[int]

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def payload_for_task() -> Payload:
    goal_id = uuid4()
    event = ProgressRecorded(
        goal_id=goal_id,
        check_in_id=uuid4(),
        amount=2.5,
        occurred_at=datetime(2025, 3, 14, 18, 30, tzinfo=UTC),
        note="Walked after lunch.",
    )
    metadata = Metadata(
        actor_id=uuid4(),
        actor_role="clinician",
        clinic_id=uuid4(),
        correlation_id=f"req-{uuid4().hex}",
        causation_id=f"cmd-{uuid4().hex}",
    )
    template = codec.encode_event(event)
    placeholder = str(event.check_in_id)
    return Payload(
        event_type=codec.event_type(event),
        data_of=lambda: template.replace(placeholder, str(uuid4())),
        metadata=metadata,
        metadata_json=msgspec.json.encode(metadata).decode(),
    )


def append_writer(conn: Connection, payload: Payload) -> WriteOne:
    stream_id = f"goal-{uuid4()}"
    version = 0

    async def write_one() -> None:
        nonlocal version
        event = NewEvent(uuid4(), payload.event_type, payload.data_of(), payload.metadata)
        result = await append(conn, stream_id, version, [event])
        version = result.version

    return write_one


def raw_writer(conn: Connection, payload: Payload) -> WriteOne:
    stream_id = f"goal-{uuid4()}"
    version = 0

    async def write_one() -> None:
        nonlocal version
        await conn.execute(
            RAW_INSERT,
            stream_id,
            version + 1,
            uuid4(),
            payload.event_type,
            payload.data_of(),
            payload.metadata_json,
        )
        version += 1

    return write_one


def split(total: int, parts: int) -> list[int]:
    share, extra = divmod(total, parts)
    return [share + (1 if index < extra else 0) for index in range(parts)]


async def run_phase(
    pool: asyncpg.Pool, make_writer: WriterFactory, payloads: list[Payload], events: int
) -> PhaseResult:
    """Writes `events` events spread over one task per payload, all starting together."""
    quotas = split(events, len(payloads))
    # The clock starts only once every task holds its connection and has its stream ready.
    start_line = asyncio.Barrier(len(payloads) + 1)

    async def task_body(payload: Payload, quota: int) -> list[int]:
        latencies = []
        async with pool.acquire() as conn:
            write_one = make_writer(conn, payload)
            await start_line.wait()
            for _ in range(quota):
                began = time.perf_counter_ns()
                await write_one()
                latencies.append(time.perf_counter_ns() - began)
        return latencies

    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(task_body(payload, quota))
            for payload, quota in zip(payloads, quotas, strict=True)
        ]
        await start_line.wait()
        began = time.perf_counter()
    seconds = time.perf_counter() - began
    latencies = [latency for task in tasks for latency in task.result()]
    return PhaseResult(events, seconds, latencies)


def percentile_ms(latencies_ns: list[int], fraction: float) -> float:
    ordered = sorted(latencies_ns)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index] / 1e6


@dataclass(frozen=True)
class Summary:
    name: str
    rounds: list[PhaseResult]

    @property
    def rate(self) -> float:
        return statistics.median(result.rate for result in self.rounds)

    def latency_ms(self, fraction: float) -> float:
        every_call = [latency for result in self.rounds for latency in result.latencies_ns]
        return percentile_ms(every_call, fraction)


def paired_ratio(raw: Summary, appended: Summary) -> float:
    """The median of each round's append/raw: the two phases of a round ran back to back, so
    their ratio is spared most of what the machine's other work does to both rates."""
    return statistics.median(
        mine.rate / ceiling.rate for mine, ceiling in zip(appended.rounds, raw.rounds, strict=True)
    )


def report(
    server_version: str,
    arguments: argparse.Namespace,
    raw: Summary,
    appended: Summary,
    unchained: Summary | None,
) -> None:
    ratio = paired_ratio(raw, appended)
    print(f"server: {server_version}")
    print(
        f"{arguments.tasks} tasks on {arguments.tasks} pooled connections, one event per call, "
        f"{arguments.events:,} events per phase per round, {arguments.rounds} rounds"
    )
    print()
    print(f"{'phase':<8} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8}   rounds (events/s)")
    for summary in (raw, appended, *([] if unchained is None else [unchained])):
        rounds = ", ".join(f"{result.rate:,.0f}" for result in summary.rounds)
        print(
            f"{summary.name:<8} {summary.rate:>10,.0f} {summary.latency_ms(0.50):>8.2f} "
            f"{summary.latency_ms(0.99):>8.2f}   {rounds}"
        )
    print()
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    print(
        f"append/raw: {ratio:.1%}, median of the rounds' ratios ({verdict} the "
        f"{TARGET_RATIO:.0%} target); of the median rates: {appended.rate / raw.rate:.1%}"
    )
    if unchained is not None:
        print(
            f"append/unchained: {paired_ratio(unchained, appended):.1%}, median of the rounds' "
            f"ratios: what the hash chain leaves of an append's rate"
        )


async def benchmark(scratch_url: str, arguments: argparse.Namespace) -> None:
    admin = await asyncpg.connect(scratch_url)
    try:
        await migrate(admin)
        server_version = await admin.fetchval("SELECT version()")
        if arguments.unchained:
            await admin.execute(_UNCHAINED_ALLOWED)
        await _measure(scratch_url, admin, arguments, server_version)
    finally:
        await admin.close()


# The scratch log accepts events without hashes, so that the chain's trigger may be switched off.
_UNCHAINED_ALLOWED = """
ALTER TABLE events ALTER COLUMN hash DROP NOT NULL, ALTER COLUMN previous_hash DROP NOT NULL
"""


async def _measure(
    scratch_url: str, admin: Connection, arguments: argparse.Namespace, server_version: str
) -> None:
    pool = await asyncpg.create_pool(
        scratch_url, min_size=arguments.tasks, max_size=arguments.tasks
    )
    try:
        payloads = [payload_for_task() for _ in range(arguments.tasks)]
        warmup_events = WARMUP_CALLS_PER_TASK * arguments.tasks
        await run_phase(pool, raw_writer, payloads, warmup_events)
        await run_phase(pool, append_writer, payloads, warmup_events)

        raw = Summary("raw", [])
        appended = Summary("append", [])
        unchained = Summary("unchained", []) if arguments.unchained else None
        phases = [(raw, raw_writer), (appended, append_writer)]
        if unchained is not None:
            phases.append((unchained, append_writer))
        for round_number in range(arguments.rounds):
            order = phases if round_number % 2 == 0 else phases[::-1]
            for summary, make_writer in order:
                switch = "DISABLE" if summary is unchained else "ENABLE"
                await admin.execute(f"ALTER TABLE events {switch} TRIGGER events_chained")
                result = await run_phase(pool, make_writer, payloads, arguments.events)
                summary.rounds.append(result)

        # A phase that lost or skipped writes would report a rate for work it never did.
        written = 2 * warmup_events + len(phases) * arguments.rounds * arguments.events
        stored = await pool.fetchval("SELECT count(*) FROM events")
        if stored != written:
            raise RuntimeError(f"{stored} events stored, {written} written")
    finally:
        await pool.close()

    report(server_version, arguments, raw, appended, unchained)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.append_throughput",
        description="Events per second through store.append, against a raw INSERT.",
    )
    parser.add_argument(
        "--events", type=positive, default=20_000, help="events per phase per round"
    )
    parser.add_argument(
        "--tasks", type=positive, default=16, help="concurrent tasks, one connection each"
    )
    parser.add_argument(
        "--rounds", type=positive, default=9, help="rounds of both phases; rates are the median"
    )
    parser.add_argument(
        "--unchained",
        action="store_true",
        help="a third phase: append with the hash chain's trigger disabled",
    )
    return parser.parse_args(argv)


async def main(argv: list[str]) -> None:
    arguments = parse_arguments(argv)
    configure_logging(Settings(log_level="warning"))
    server_url = os.environ.get("DATABASE_URL", DEFAULT_SERVER_URL)
    scratch_url = url_for_database(server_url, f"goals_bench_{secrets.token_hex(6)}")
    if not await create_database_if_missing(scratch_url):
        raise SystemExit(f"scratch database already exists, not touching it: {scratch_url}")
    try:
        await benchmark(scratch_url, arguments)
    finally:
        await drop_database(scratch_url)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
