"""How fast the therapist's pages answer, and how that grows with the caseload.

    uv run python -m bench.web_pages [--sizes 50,200,800] [--requests 300] [--goals 3]

On a scratch database (`goals_bench_<random>` on the server `DATABASE_URL` names), one clinic
gets a therapist per size in `--sizes`, each with that many clients of their own; every client
has `--goals` goals (one of them due within the week, so that flags are raised) with a check-in
on each of the last few days, written through the goal handler as the API writes them and
projected as the workers project them. Each therapist gets a web session, as a sign-in link opens.

`goals api` then serves (one uvicorn worker, the production log level), and for each therapist,
one connection, closed loop, after a warm-up of 20 requests each:

- the caseload page (`GET /caseload`, its first page, who needs attention first), `--requests`
  times;
- a client's page (`GET /caseload/clients/{id}`), `--requests` times, rotating over the clients.

Each answer must be 200. It prints p50 and p99 per page and size; the target (p99 under 100 ms
at 200 clients) is reported, never asserted.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import httpx
import msgspec

from bench.api_checkins import (
    CLIENT_TOKEN_LIFETIME,
    api_command,
    free_port,
    goal_terms,
    log_tail,
    on_scratch_database,
    served,
)
from domain.goals.commands import Actor, RecordProgress, SetGoal
from infra.access import identity
from infra.access.clinics import goal_bounds, start_clinic, system_metadata
from infra.access.queries import User
from infra.access.web_sessions import record_session
from infra.db.connection import Connection
from infra.db.migrate import migrate
from infra.goals.handler import CommandContext, handle
from infra.projections.feed import lagging_goals
from infra.projections.goal_summaries import project_goal
from services.api.auth import SESSION_COOKIE

HASH_KEY = "bench-web-pages-key"
CORRELATION_ID = "bench-web-pages"
TARGET_P99_MS = 100.0
TARGET_SIZE = 200
WARMUP = 20
CHECK_IN_DAYS = 4


@dataclass(frozen=True)
class Caseload:
    size: int
    session: str
    clients: list[UUID]


def _context(therapist: User) -> CommandContext:
    """A command's own id: event ids are derived from it."""
    return CommandContext(uuid4(), therapist.clinic_id, CORRELATION_ID)


async def _client_with_goals(
    conn: Connection, therapist: User, number: int, goals: int, opened: datetime
) -> UUID:
    metadata = system_metadata(CORRELATION_ID)
    now = datetime.now(UTC)
    client = User(
        uuid4(),
        therapist.clinic_id,
        "client",
        f"Client {number:04}",
        f"client{number}.{therapist.id}@bench.example",
        "UTC",
        now,
    )
    await identity.register_user(conn, client, metadata)
    await identity.assign_therapist(conn, client.id, therapist.id, metadata)
    terms = goal_terms(now.date())
    for index in range(goals):
        goal_id = uuid4()
        due = terms.due_date if index else now.date() + timedelta(days=3)
        dated = msgspec.structs.replace(terms, due_date=due)
        setter = Actor(therapist.id, "therapist")
        command = SetGoal(goal_id, client.id, dated, setter, now, opened)
        await handle(conn, command, _context(therapist))
        for day in range(CHECK_IN_DAYS):
            moment = now - timedelta(days=day)
            progress = RecordProgress(goal_id, uuid4(), 1, moment, Actor(client.id, "client"), now)
            await handle(conn, progress, _context(therapist))
    return client.id


async def seed(scratch_url: str, sizes: list[int], goals: int) -> list[Caseload]:
    conn = await asyncpg.connect(scratch_url)
    try:
        await migrate(conn)
        admin, _ = await start_clinic(conn, "Bench clinic", "admin@bench.example", HASH_KEY)
        opened = (await goal_bounds(conn, admin.clinic_id)).opened_at
        metadata = system_metadata(CORRELATION_ID)
        caseloads = []
        for size in sizes:
            therapist = User(
                uuid4(),
                admin.clinic_id,
                "therapist",
                f"Therapist of {size}",
                f"therapist{size}@bench.example",
                "UTC",
                datetime.now(UTC),
            )
            await identity.register_user(conn, therapist, metadata)
            async with conn.transaction():
                clients = [
                    await _client_with_goals(conn, therapist, number, goals, opened)
                    for number in range(size)
                ]
                issued = await identity.issue_token(
                    conn,
                    token_id=uuid4(),
                    user_id=therapist.id,
                    lifetime=CLIENT_TOKEN_LIFETIME,
                    hash_key=HASH_KEY,
                    metadata=metadata,
                )
                await record_session(conn, issued, "sign_in_link")
            caseloads.append(Caseload(size, issued.secret, clients))
            print(f"seeded a caseload of {size}", flush=True)
        for goal_id in await lagging_goals(conn, timedelta(0)):
            await project_goal(conn, goal_id)
    finally:
        await conn.close()
    return caseloads


def _percentile(latencies: list[float], fraction: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _timed(client: httpx.AsyncClient, paths: list[str], count: int) -> list[float]:
    latencies = []
    for index in range(count):
        started = time.perf_counter()
        answer = await client.get(paths[index % len(paths)])
        latencies.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{paths[index % len(paths)]} answered {answer.status_code}")
    return latencies


async def measure(base_url: str, caseload: Caseload, requests: int) -> dict[str, list[float]]:
    cookies = {SESSION_COOKIE: caseload.session}
    pages = {
        "caseload": ["/caseload"],
        "client page": [f"/caseload/clients/{client}" for client in caseload.clients],
    }
    async with httpx.AsyncClient(base_url=base_url, cookies=cookies, timeout=10) as client:
        found = {}
        for name, paths in pages.items():
            await _timed(client, paths, WARMUP)
            found[name] = await _timed(client, paths, requests)
    return found


async def benchmark(scratch_url: str, arguments: argparse.Namespace) -> None:
    sizes = [int(size) for size in arguments.sizes.split(",")]
    caseloads = await seed(scratch_url, sizes, arguments.goals)
    port = free_port()
    environment = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": scratch_url,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "API_WORKERS": "1",
        "LOG_LEVEL": "info",
        "LOG_FORMAT": "json",
        "TOKEN_HASH_KEY": HASH_KEY,
        "RATE_LIMIT_REQUESTS": "0",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    with tempfile.TemporaryDirectory() as directory:
        try:
            async with served(
                "api", api_command(), environment, "/health/live", Path(directory)
            ) as server:
                results = {
                    c.size: await measure(server.base_url, c, arguments.requests) for c in caseloads
                }
        except BaseException:
            print(log_tail(Path(directory) / "api.log"), file=sys.stderr)
            raise
    print("| clients | page | p50 ms | p99 ms | mean ms |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for size, pages in results.items():
        for name, latencies in pages.items():
            p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
            mean = statistics.fmean(latencies)
            print(f"| {size} | {name} | {p50:.1f} | {p99:.1f} | {mean:.1f} |")
    if TARGET_SIZE in results:
        worst = max(_percentile(lat, 0.99) for lat in results[TARGET_SIZE].values())
        verdict = "met" if worst < TARGET_P99_MS else "NOT met"
        target = f"p99 < {TARGET_P99_MS:.0f} ms at {TARGET_SIZE} clients"
        print(f"target {target}: {verdict} ({worst:.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,200,800", help="caseload sizes, comma-separated")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page")
    parser.add_argument("--goals", type=int, default=3, help="goals per client")
    arguments = parser.parse_args()
    asyncio.run(on_scratch_database(lambda url: benchmark(url, arguments)))


if __name__ == "__main__":
    main()
