"""Webhook deliveries per second, and the delay from append to delivery.

    uv run python -m bench.webhook_delivery [--endpoints 4] [--burst 4000] [--rate 25]
        [--seconds 20]

Creates a scratch database `goals_bench_<random>` on the server that `DATABASE_URL` names,
migrates it, registers `--endpoints` endpoints of one clinic (every event type, `id-only`) at a
local receiver (bench/webhook_receiver.py, its own process, answering 204 at once), and runs the
worker service (`goals worker`: 2 Dramatiq processes of 4 threads, the relay and the webhook
scheduler, on the Redis that `REDIS_URL` names, under a key prefix of its own). The database
and the run's Redis keys go at the end.

1. Throughput: `--burst` goal events are written before the worker service starts; then it
   fans them out and sends them. Deliveries per second = deliveries / (last `delivered_at` -
   first attempt's `attempted_at`).
2. Delay: with the service running, check-ins are written at `--rate` per second for
   `--seconds` seconds (each followed by the NOTIFY the API sends); delay = the delivery's
   `delivered_at` (written when the receiver's answer is recorded) - the event's
   `recorded_at`, both from the database's clock; p50 and p99 over every delivery.
3. Idle: the worker service's CPU over 10 s with nothing to do (its workers poll Redis).

Exits non-zero if a delivery did not arrive.
"""

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.api_checkins import cpu_seconds, database_backends, free_port, process_tree
from bench.projection_lag import Worker, delete_broker_keys, worker_environment, worker_service
from domain.goals.commands import Actor, RecordProgress, SetGoal
from domain.goals.terms import GoalTerms, Measure
from infra.db.connection import Connection
from infra.db.migrate import migrate
from infra.db.pool import create_database_if_missing, drop_database, url_for_database
from infra.eventstore.signal import CHANNEL
from infra.goals.handler import CommandContext, handle
from infra.webhooks.signing import new_secret

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
EVENTS_PER_GOAL = 20
WRITERS = 8
IDLE_SECONDS = 10.0
THERAPIST = Actor(uuid.UUID(int=8), "therapist")


def terms(today: date) -> GoalTerms:
    return GoalTerms(
        statement="Walk for 30 minutes",
        life_area="physical_health",
        values=("health",),
        measure=Measure("count", 3, "walks", "per_week"),
        cue=None,
        start_date=today - timedelta(days=7),
        due_date=today + timedelta(days=60),
        priority="high",
        time_zone="Europe/Berlin",
    )


async def seed(conn: Connection, port: int, endpoints: int) -> uuid.UUID:
    clinic = uuid.uuid4()
    await conn.execute("INSERT INTO clinics (id, name) VALUES ($1, 'bench')", clinic)
    for index in range(endpoints):
        await conn.execute(
            "INSERT INTO webhook_endpoints (id, clinic_id, url, event_types, format, secret) "
            "VALUES ($1, $2, $3, '{*}', 'id-only', $4)",
            uuid.uuid4(),
            clinic,
            f"http://127.0.0.1:{port}/endpoint-{index}",
            new_secret(),
        )
    return clinic


async def set_goal(conn: Connection, clinic: uuid.UUID) -> uuid.UUID:
    goal_id = uuid.uuid4()
    now = datetime.now(UTC)
    opened = now - timedelta(days=365)
    command = SetGoal(goal_id, uuid.uuid4(), terms(now.date()), THERAPIST, now, opened)
    await handle(conn, command, CommandContext(uuid.uuid4(), clinic, "bench"))
    return goal_id


async def check_in(conn: Connection, clinic: uuid.UUID, goal_id: uuid.UUID) -> None:
    now = datetime.now(UTC)
    command = RecordProgress(goal_id, uuid.uuid4(), 1, now, THERAPIST, now)
    await handle(conn, command, CommandContext(uuid.uuid4(), clinic, "bench"))


async def write_burst(pool: asyncpg.Pool, clinic: uuid.UUID, events: int) -> None:
    goals = max(1, events // EVENTS_PER_GOAL)

    async def writer(share: int) -> None:
        async with pool.acquire() as conn:
            for _ in range(share):
                goal_id = await set_goal(conn, clinic)
                for _ in range(EVENTS_PER_GOAL - 1):
                    await check_in(conn, clinic, goal_id)

    shares = [goals // WRITERS + (1 if index < goals % WRITERS else 0) for index in range(WRITERS)]
    await asyncio.gather(*(writer(share) for share in shares))


async def write_paced(
    pool: asyncpg.Pool, clinic: uuid.UUID, rate: float, seconds: float
) -> datetime:
    """Check-ins at `rate` per second, on goals set first; returns when the first was written."""
    async with pool.acquire() as conn:
        goal_ids = [await set_goal(conn, clinic) for _ in range(WRITERS)]
        began: datetime = await conn.fetchval("SELECT clock_timestamp()")
    count = int(rate * seconds)
    start = time.monotonic()

    async def writer(index: int) -> None:
        async with pool.acquire() as conn:
            for number in range(index, count, WRITERS):
                delay = start + number / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await check_in(conn, clinic, goal_ids[index])
                await conn.execute("SELECT pg_notify($1, '')", CHANNEL)

    await asyncio.gather(*(writer(index) for index in range(WRITERS)))
    return began


async def wait_delivered(pool: asyncpg.Pool, worker: Worker, expected: int, within: float) -> int:
    deadline = time.monotonic() + within
    while True:
        delivered = int(
            await pool.fetchval("SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'")
        )
        if delivered >= expected or time.monotonic() > deadline:
            return delivered
        worker.check_running()
        await asyncio.sleep(0.2)


async def cpu_used(scratch_url: str, worker: Worker) -> tuple[float, float]:
    """CPU seconds so far of the worker service's processes, and of the database's backends."""
    service = sum(cpu_seconds(pid) for pid in process_tree(worker.process.pid))
    database = sum(cpu_seconds(pid) for pid in await database_backends(scratch_url))
    return service, database


async def print_where_the_time_went(pool: asyncpg.Pool) -> None:
    """When the fan-out had recorded every delivery, and how long endpoints sat with nothing in
    flight although deliveries were recorded (gaps of over 250 ms between their attempts)."""
    fanned_out = await pool.fetchval(
        "SELECT extract(epoch FROM (SELECT max(created_at) FROM webhook_deliveries) - "
        "(SELECT min(attempted_at) FROM webhook_attempts))"
    )
    idle = await pool.fetch(
        """
        SELECT endpoint_id, sum(gap) FILTER (WHERE gap > 0.25) AS idle, count(*) FILTER (
            WHERE gap > 0.25) AS gaps
        FROM (
            SELECT d.endpoint_id, extract(epoch FROM a.attempted_at - lag(a.attempted_at)
                OVER (PARTITION BY d.endpoint_id ORDER BY a.attempted_at)) AS gap
            FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
        ) gaps GROUP BY endpoint_id
        """
    )
    print(
        f"fan-out recorded the last delivery {float(fanned_out):.1f} s after the first attempt; "
        "endpoints idle between attempts (gaps over 250 ms): "
        + ", ".join(f"{float(row['idle'] or 0):.1f} s in {row['gaps']}" for row in idle)
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(scratch_url: str, arguments: argparse.Namespace, log_dir: Path) -> bool:
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    namespace = f"goals_bench_{secrets.token_hex(6)}"
    port = free_port()
    receiver = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.webhook_receiver", str(port), stdout=asyncio.subprocess.PIPE
    )
    assert receiver.stdout is not None
    await receiver.stdout.readline()
    pool = await asyncpg.create_pool(scratch_url, min_size=WRITERS, max_size=WRITERS + 2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
            clinic = await seed(conn, port, arguments.endpoints)
        await write_burst(pool, clinic, arguments.burst)
        burst_events = int(await pool.fetchval("SELECT count(*) FROM events"))
        burst = burst_events * arguments.endpoints
        environment = worker_environment(scratch_url, namespace)
        environment.update(
            REDIS_URL=redis_url, WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8", WEBHOOK_ALLOW_HTTP="true"
        )
        async with worker_service(environment, log_dir / "worker.log") as worker:
            first = await wait_delivered(pool, worker, 1, 60)
            service_before, database_before = await cpu_used(scratch_url, worker)
            got = await wait_delivered(pool, worker, burst, 300)
            service_after, database_after = await cpu_used(scratch_url, worker)
            span = await pool.fetchval(
                "SELECT extract(epoch FROM (SELECT max(delivered_at) FROM webhook_deliveries) - "
                "(SELECT min(attempted_at) FROM webhook_attempts))"
            )
            print(
                f"throughput: {burst_events} events x {arguments.endpoints} endpoints = "
                f"{got}/{burst} deliveries in {float(span):.2f} s: "
                f"{got / float(span):.0f} deliveries/s"
            )
            await print_where_the_time_went(pool)
            service_cpu = service_after - service_before
            database_cpu = database_after - database_before
            print(
                f"CPU for the last {got - first} deliveries: worker service {service_cpu:.1f} s, "
                f"PostgreSQL {database_cpu:.1f} s: {(got - first) / service_cpu:.0f} deliveries "
                "per CPU-second of the worker service"
            )
            began = await write_paced(pool, clinic, arguments.rate, arguments.seconds)
            paced = (int(await pool.fetchval("SELECT count(*) FROM events")) - burst_events) * (
                arguments.endpoints
            )
            got_paced = await wait_delivered(pool, worker, burst + paced, 120) - burst
            delays = [
                float(row["delay"])
                for row in await pool.fetch(
                    "SELECT extract(epoch FROM d.delivered_at - e.recorded_at) AS delay "
                    "FROM webhook_deliveries d JOIN events e ON e.event_id = d.event_id "
                    "WHERE e.recorded_at >= $1 AND d.state = 'delivered'",
                    began,
                )
            ]
            print(
                f"delay: {arguments.rate:g} events/s x {arguments.endpoints} endpoints for "
                f"{arguments.seconds:g} s: {got_paced}/{paced} delivered; append to delivery "
                f"p50 {percentile(delays, 0.5) * 1000:.0f} ms, "
                f"p99 {percentile(delays, 0.99) * 1000:.0f} ms, "
                f"max {max(delays) * 1000:.0f} ms"
            )
            idle_before, _ = await cpu_used(scratch_url, worker)
            await asyncio.sleep(IDLE_SECONDS)
            idle_after, _ = await cpu_used(scratch_url, worker)
            print(
                f"idle: the worker service used {(idle_after - idle_before) / IDLE_SECONDS:.1%} "
                f"of a core over {IDLE_SECONDS:g} s with nothing to do"
            )
        return got >= burst and got_paced >= paced
    finally:
        await pool.close()
        receiver.terminate()
        await receiver.wait()
        await delete_broker_keys(redis_url, namespace)


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--burst", type=int, default=4000, help="events written before")
    parser.add_argument("--rate", type=float, default=25, help="events per second, paced")
    parser.add_argument("--seconds", type=float, default=20, help="of paced events")
    arguments = parser.parse_args(argv)
    server_url = os.environ.get("DATABASE_URL", DEFAULT_SERVER_URL)
    scratch_url = url_for_database(server_url, f"goals_bench_{secrets.token_hex(6)}")
    if not await create_database_if_missing(scratch_url):
        raise SystemExit(f"scratch database already exists, not touching it: {scratch_url}")
    try:
        with tempfile.TemporaryDirectory() as log_dir:
            complete = await run(scratch_url, arguments, Path(log_dir))
    finally:
        await drop_database(scratch_url)
    if not complete:
        raise SystemExit("some deliveries did not arrive")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
