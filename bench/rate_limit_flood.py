"""Benchmark: does a flood from one token leave another clinic's latency alone?

    uv run python -m bench.rate_limit_flood [--rounds 3] [--duration 15] [--victim-rate 8]
        [--flood-rate R] [--limit N] [--window second|minute|hour|day] [--burst N]

On a scratch database (dropped at the end) of the server `DATABASE_URL` names, two clinics are
seeded as bench/api_checkins.py seeds one: each a client with goals and a bearer token. The real
API (`goals api`, 2 worker processes) runs with the default rate limits (`RATE_LIMIT_REQUESTS`,
`RATE_LIMIT_WINDOW`, `RATE_LIMIT_BURST`, or those `--limit`, `--window` and `--burst` give),
counted in the Redis `REDIS_URL` names under a `BROKER_NAMESPACE` of the run's own (its keys
expire with their windows).

Each round measures, in an order that alternates between rounds:
- unloaded: the second clinic's client checks in at a paced rate (open loop, under its own limit
  whatever the window: 8/s is 480 a minute, under the default 600) for `duration` seconds, alone;
- flooded: the same paced load, while the first clinic's client floods the API (64 keep-alive
  connections, closed loop, or paced at `--flood-rate`) with check-ins, most of which answer 429.

Both loads come from bench/http_load.py, each in a process of its own. The report gives, per
round and as the median of the rounds, the second clinic's p50 and p99 in each phase, and what
the flood sent and was answered, and the cores (CPU time over wall time) the API's processes
took in each phase and the flood's generator took. Target: the flooded p99 within 2x of the
unloaded one.
"""

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import asyncpg
import msgspec

from bench.api_checkins import (
    BenchError,
    Measured,
    Options,
    Server,
    api_command,
    cpu_seconds,
    finish,
    free_port,
    measured_from,
    on_scratch_database,
    process_tree,
    seed,
    served,
    server_environment,
)
from bench.http_load import LoadResult, LoadSpec
from infra.db.migrate import migrate

TARGET_FACTOR = 2.0
T = TypeVar("T")
FLOOD_CONNECTIONS = 64
VICTIM_CONNECTIONS = 8
GOALS_PER_CLINIC = 64
WORKERS = 2
POOL_MAX = 20


@dataclass(frozen=True)
class Round:
    unloaded: Measured
    flooded: Measured
    flood: Measured
    api_cores_unloaded: float
    api_cores_flooded: float
    """CPU time of the API's processes over each phase's wall time."""


async def phase_with_api_cores(api_pid: int, phase: Awaitable[T]) -> tuple[T, float]:
    """`phase`'s result, and the cores the API's processes took while it ran."""
    processes = process_tree(api_pid)
    began, cpu_before = time.monotonic(), sum(cpu_seconds(pid) for pid in processes)
    result = await phase
    cpu = sum(cpu_seconds(pid) for pid in processes) - cpu_before
    return result, cpu / (time.monotonic() - began)


async def prepare(scratch_url: str, hash_key: str) -> tuple[str, list[str], str, list[str]]:
    """The flooding client's token and goals, then the other clinic's."""
    conn = await asyncpg.connect(scratch_url)
    try:
        await migrate(conn)
        async with conn.transaction():
            flooder = await seed(conn, hash_key, GOALS_PER_CLINIC)
            victim = await seed(conn, hash_key, GOALS_PER_CLINIC)
    finally:
        await conn.close()
    return (
        flooder.token,
        [str(goal) for goal in flooder.peak_goals],
        victim.token,
        [str(goal) for goal in victim.peak_goals],
    )


async def load(spec: LoadSpec) -> Measured:
    """bench/http_load.py in a process of its own, its result written to a file: through a pipe,
    a flood's result (hundreds of thousands of latencies) came back cut at 256 KiB."""
    began = time.monotonic()
    with tempfile.TemporaryFile() as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.http_load",
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.PIPE,
        )
        _, errors = await finish(process, msgspec.json.encode(spec))
        if process.returncode != 0:
            raise BenchError(
                f"the load generator failed: {errors[-2000:].decode(errors='replace')}"
            )
        output.seek(0)
        result = msgspec.json.decode(output.read(), type=LoadResult)
    return measured_from(result, time.monotonic() - began)


async def one_round(
    api: Server,
    tokens: tuple[str, list[str], str, list[str]],
    arguments: argparse.Namespace,
    flood_first: bool,
) -> Round:
    flooder_token, flooder_goals, victim_token, victim_goals = tokens
    victim = LoadSpec(
        api.base_url,
        victim_token,
        victim_goals,
        VICTIM_CONNECTIONS,
        arguments.duration,
        rate=arguments.victim_rate,
    )
    flood = LoadSpec(
        api.base_url,
        flooder_token,
        flooder_goals,
        FLOOD_CONNECTIONS,
        arguments.duration,
        rate=arguments.flood_rate,
    )

    async def flooded() -> tuple[Measured, Measured]:
        paced, flooding = await asyncio.gather(load(victim), load(flood))
        return paced, flooding

    if flood_first:
        (under_flood, flooding), flooded_cores = await phase_with_api_cores(api.pid, flooded())
        alone, alone_cores = await phase_with_api_cores(api.pid, load(victim))
    else:
        alone, alone_cores = await phase_with_api_cores(api.pid, load(victim))
        (under_flood, flooding), flooded_cores = await phase_with_api_cores(api.pid, flooded())
    for phase, measured in (("unloaded", alone), ("flooded", under_flood)):
        if measured.failed:
            raise BenchError(f"the other clinic's {phase} load failed: {measured.first_error}")
    return Round(alone, under_flood, flooding, alone_cores, flooded_cores)


def report(rounds: list[Round], arguments: argparse.Namespace) -> None:
    flood_shape = (
        "closed loop" if arguments.flood_rate is None else f"paced at {arguments.flood_rate:.0f}/s"
    )
    print(
        f"other clinic paced at {arguments.victim_rate:.0f}/s on {VICTIM_CONNECTIONS} connections;"
        f" flood: {FLOOD_CONNECTIONS} connections, {flood_shape};"
        f" {arguments.duration} s per phase;"
        f" limit {arguments.limit or 'default'} per {arguments.window or 'default window'},"
        f" burst {'default' if arguments.burst is None else arguments.burst};"
        f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        "| round | unloaded p50 / p99 ms | flooded p50 / p99 ms | flood sent/s | flood 2xx/s"
        " | API cores unloaded / flooded | flood generator cores |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for index, measured in enumerate(rounds, 1):
        flood = measured.flood
        print(
            f"| {index} | {measured.unloaded.p50_ms:.1f} / {measured.unloaded.p99_ms:.1f}"
            f" | {measured.flooded.p50_ms:.1f} / {measured.flooded.p99_ms:.1f}"
            f" | {flood.rate:,.0f} | {(flood.requests - flood.non_2xx) / flood.seconds:,.0f}"
            f" | {measured.api_cores_unloaded:.2f} / {measured.api_cores_flooded:.2f}"
            f" | {flood.generator_cores or 0:.2f} |"
        )
    unloaded = statistics.median(r.unloaded.p99_ms for r in rounds)
    flooded = statistics.median(r.flooded.p99_ms for r in rounds)
    verdict = "met" if flooded <= TARGET_FACTOR * unloaded else "NOT met"
    print(
        f"median p99: unloaded {unloaded:.1f} ms, flooded {flooded:.1f} ms"
        f" ({flooded / unloaded:.2f}x); target within {TARGET_FACTOR:.0f}x: {verdict}"
    )


async def benchmark(scratch_url: str, arguments: argparse.Namespace) -> None:
    hash_key = secrets.token_hex(16)
    tokens = await prepare(scratch_url, hash_key)
    options = Options(
        connections=FLOOD_CONNECTIONS,
        duration=arguments.duration,
        warmup=0,
        goals=GOALS_PER_CLINIC,
        workers=WORKERS,
        pool_max=POOL_MAX,
        rounds=arguments.rounds,
        wrk=None,
    )
    environment = server_environment(scratch_url, free_port(), hash_key, options)
    # The defaults an operator gets unless the command says otherwise, not the check-in
    # benchmark's "off".
    del environment["RATE_LIMIT_REQUESTS"]
    environment.pop("RATE_LIMIT_WINDOW", None)
    environment.pop("RATE_LIMIT_BURST", None)
    if arguments.limit is not None:
        environment["RATE_LIMIT_REQUESTS"] = str(arguments.limit)
    if arguments.window is not None:
        environment["RATE_LIMIT_WINDOW"] = arguments.window
    if arguments.burst is not None:
        environment["RATE_LIMIT_BURST"] = str(arguments.burst)
    environment["BROKER_NAMESPACE"] = f"goals_bench_{secrets.token_hex(6)}"
    with tempfile.TemporaryDirectory(prefix="goals-bench-flood-") as log_dir:
        async with served("api", api_command(), environment, "/health/live", Path(log_dir)) as api:
            rounds = [
                await one_round(api, tokens, arguments, flood_first=index % 2 == 1)
                for index in range(arguments.rounds)
            ]
    report(rounds, arguments)


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.rate_limit_flood")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=15, help="seconds per phase")
    parser.add_argument(
        "--victim-rate", type=float, default=8, help="the other clinic's check-ins per second"
    )
    parser.add_argument(
        "--flood-rate", type=float, help="pace the flood at this rate (default: closed loop)"
    )
    parser.add_argument("--limit", type=int, help="RATE_LIMIT_REQUESTS (default: the service's)")
    parser.add_argument(
        "--window",
        choices=["second", "minute", "hour", "day"],
        help="RATE_LIMIT_WINDOW (default: the service's)",
    )
    parser.add_argument("--burst", type=int, help="RATE_LIMIT_BURST (default: the service's)")
    return parser.parse_args(argv)


async def main(argv: list[str]) -> None:
    arguments = parse_arguments(argv)
    await on_scratch_database(lambda scratch_url: benchmark(scratch_url, arguments))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
