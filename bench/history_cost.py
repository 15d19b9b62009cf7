"""What a check-in costs as its goal's history grows, and what an API process keeps in memory.

    uv run python -m bench.history_cost [--lengths 10,1000,10000] [--goals 64] [--rate 200]
        [--duration 15] [--warmup 8] [--rounds 2] [--memory-goals 50000]
        [--memory-check-ins 1000000] [--memory-rate 300] [--skip-lengths] [--skip-memory]

Creates a scratch database `goals_bench_<random>` on the server that `DATABASE_URL` names,
migrates it, seeds a clinic (a therapist, a client on the therapist's care team, a bearer token
for the client) and drops it at the end. Goals and their earlier check-ins are inserted straight
into the log, as valid events (what the API would have appended), which takes seconds where the
API would take hours; every measured check-in goes through the API.

Per check-in: for each length n of `--lengths`, `--goals` goals of n events each. Each round
starts a fresh API process (one uvicorn worker, `API_WORKERS=1`) per length, so that it folds
the goals afresh; a warm-up (`--warmup` seconds, unmeasured: the cold loads fall in it) and then
`--duration` seconds of check-ins paced at `--rate` per second over the goals in turn (open
loop, bench/paced_load.c), whose CPU time per check-in (the API process, and the database's
backends, from /proc) and p99 latency are reported: their medians over `--rounds`. The lengths
take turns in each round, in an order that alternates, so that a drift of the shared machine
weighs on all alike. The target: the API's CPU per check-in at the longest history within 15 % of
that at the shortest. A cold pass is reported too: the API process's CPU per goal for the first
check-in on each goal of the longest history, in a process started before any snapshot was kept
and in one started after.

Memory: `--memory-goals` goals with `--memory-check-ins` check-ins in all, the last check-in of
each goal through the API (so that the API process folds every goal, the way a clinic's history
reaches a process over its lifetime); the API process's resident memory (VmRSS) and its peak
(VmHWM) are reported after it. The target: under 300 MiB.

The figures are reported, never asserted; the exit status is non-zero only when something fails,
including any answer other than 2xx.
"""

import argparse
import asyncio
import math
import os
import secrets
import statistics
import sys
import tempfile
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from uuid import UUID

import asyncpg

from bench.api_checkins import (
    BenchError,
    CpuMeter,
    Measured,
    Options,
    Server,
    api_command,
    compiled_paced_load,
    free_port,
    generate,
    on_scratch_database,
    phase,
    process_tree,
    served,
    server_environment,
    settle_database,
)
from bench.history_seed import Clinic, seed_check_ins, seed_clinic, seed_goals
from infra.db.migrate import migrate
from infra.goals.streams import goal_stream

TARGET_CPU_GROWTH = 0.15
TARGET_RSS_MIB = 300


@dataclass(frozen=True)
class Settings:
    lengths: list[int]
    goals: int
    rate: float
    duration: int
    warmup: int
    rounds: int
    memory_goals: int
    memory_check_ins: int
    memory_rate: float
    skip_lengths: bool
    skip_memory: bool


@dataclass(frozen=True)
class Length:
    events: int
    runs: list[Measured]
    cold: list[float]
    """CPU ms per goal of a first pass over the goals: before any snapshot, then after."""

    def median(self, field: str) -> float:
        values = [getattr(run, field) for run in self.runs]
        return statistics.median(value for value in values if value is not None)


def options_for(settings: Settings, paced_load: str | None) -> Options:
    return Options(
        connections=32,
        duration=settings.duration,
        warmup=settings.warmup,
        goals=settings.goals,
        workers=1,
        pool_max=10,
        rounds=settings.rounds,
        wrk=None,
        paced_load=paced_load,
    )


def api(
    scratch_url: str, clinic: Clinic, options: Options, log_dir: str
) -> AbstractAsyncContextManager[Server]:
    environment = server_environment(scratch_url, free_port(), clinic.hash_key, options)
    return served("api", api_command(), environment, "/health/ready", Path(log_dir))


async def cold_pass(
    options: Options, server: Server, scratch_url: str, clinic: Clinic, goal_ids: list[UUID]
) -> float:
    """CPU ms of the API process per goal, for one check-in on each goal, none folded before."""
    meter = await CpuMeter.start(server, scratch_url)
    # Each goal once, within a second.
    pass_options = replace(options, duration=1)
    measured = await generate(
        pass_options, server, clinic.token, goal_ids, seconds=1, rate=float(len(goal_ids))
    )
    counted = meter.per_request_ms(measured)
    if counted.failed:
        raise BenchError(f"the cold pass failed: {counted.first_error}")
    return counted.server_cpu_ms or float("nan")


async def lengths(
    scratch_url: str, clinic: Clinic, settings: Settings, options: Options
) -> list[Length]:
    goals = {}
    conn = await asyncpg.connect(scratch_url)
    try:
        for events in settings.lengths:
            goals[events] = await seed_goals(conn, clinic, settings.goals)
            await seed_check_ins(conn, clinic, goals[events], events - 1)
    finally:
        await conn.close()
    await settle_database(scratch_url)
    longest = max(settings.lengths)
    cold: list[float] = []
    runs: dict[int, list[Measured]] = {events: [] for events in settings.lengths}
    with tempfile.TemporaryDirectory(prefix="bench_history_cost_") as log_dir:
        for number in range(settings.rounds):
            order = settings.lengths if number % 2 == 0 else settings.lengths[::-1]
            for events in order:
                async with api(scratch_url, clinic, options, log_dir) as server:
                    if events == longest and len(cold) < 2:
                        cold.append(
                            await cold_pass(options, server, scratch_url, clinic, goals[events])
                        )
                    measured = await phase(
                        options,
                        server,
                        scratch_url,
                        clinic.token,
                        goals[events],
                        warmup=settings.warmup,
                        rate=settings.rate,
                    )
                if measured.failed:
                    raise BenchError(f"check-ins failed: {measured.first_error}")
                runs[events].append(measured)
    return [Length(events, runs[events], cold if events == longest else []) for events in runs]


def rss_kib(pid: int) -> tuple[int, int]:
    """The resident memory of a process now, and at its peak, in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


async def memory(
    scratch_url: str, clinic: Clinic, settings: Settings, options: Options
) -> tuple[int, int, int, float]:
    """The API worker's resident memory before the load and after it, its peak, and the
    check-ins' mean per goal at the end."""
    per_goal = settings.memory_check_ins // settings.memory_goals
    conn = await asyncpg.connect(scratch_url)
    try:
        goal_ids = await seed_goals(conn, clinic, settings.memory_goals)
        await seed_check_ins(conn, clinic, goal_ids, per_goal - 1)
    finally:
        await conn.close()
    await settle_database(scratch_url)
    seconds = math.ceil(len(goal_ids) / settings.memory_rate)
    with tempfile.TemporaryDirectory(prefix="bench_history_memory_") as log_dir:
        async with api(scratch_url, clinic, options, log_dir) as server:
            # The largest of the processes the API runs is its worker (one, here).
            processes = process_tree(server.pid)
            before = max(rss_kib(pid)[0] for pid in processes)
            measured = await generate(
                options, server, clinic.token, goal_ids, seconds=seconds, rate=settings.memory_rate
            )
            if measured.failed:
                raise BenchError(f"check-ins failed: {measured.first_error}")
            after, peak = max(rss_kib(pid) for pid in processes)
    conn = await asyncpg.connect(scratch_url)
    try:
        check_ins = await conn.fetchval(
            "SELECT count(*) FROM events "
            "WHERE event_type = 'progress_recorded' AND stream_id = ANY($1::text[])",
            [goal_stream(goal_id) for goal_id in goal_ids],
        )
    finally:
        await conn.close()
    return before, after, peak, check_ins / len(goal_ids)


def report_lengths(results: list[Length], settings: Settings) -> None:
    print(
        f"\nper check-in: {settings.goals} goals per length, {settings.rate:g}/s paced for "
        f"{settings.duration} s after {settings.warmup} s, one API worker; medians of "
        f"{settings.rounds} rounds"
    )
    print(f"{'events/goal':>11} {'API CPU ms':>10} {'DB CPU ms':>9} {'p50 ms':>7} {'p99 ms':>7}")
    for length in results:
        each = " ".join(f"{run.server_cpu_ms:.3f}" for run in length.runs if run.server_cpu_ms)
        print(
            f"{length.events:>11} {length.median('server_cpu_ms'):>10.3f} "
            f"{length.median('database_cpu_ms'):>9.3f} {length.median('p50_ms'):>7.2f} "
            f"{length.median('p99_ms'):>7.2f}   API CPU ms per round: {each}"
        )
    shortest, longest = results[0], results[-1]
    growth = longest.median("server_cpu_ms") / shortest.median("server_cpu_ms") - 1
    verdict = "meets" if abs(growth) <= TARGET_CPU_GROWTH else "misses"
    print(
        f"API CPU per check-in, {longest.events} vs {shortest.events} events per goal: "
        f"{growth:+.1%} ({verdict} the target of ±{TARGET_CPU_GROWTH:.0%})"
    )
    for label, cpu in zip(("no snapshot yet", "from snapshots"), longest.cold, strict=False):
        print(f"cold pass over {longest.events}-event goals, {label}: {cpu:.2f} ms API CPU/goal")


def report_memory(figures: tuple[int, int, int, float], settings: Settings) -> None:
    before, after, peak, per_goal = figures
    mib = 1024
    verdict = "meets" if peak / mib < TARGET_RSS_MIB else "misses"
    print(
        f"\nmemory: {settings.memory_goals} goals, {per_goal:.1f} check-ins per goal at the end "
        f"({per_goal * settings.memory_goals:.0f} in all), the last of each through the API at "
        f"{settings.memory_rate:g}/s"
    )
    print(
        f"API worker RSS: {before / mib:.0f} MiB before, {after / mib:.0f} MiB after, "
        f"peak {peak / mib:.0f} MiB ({verdict} the target of {TARGET_RSS_MIB} MiB)"
    )


async def benchmark(scratch_url: str, settings: Settings) -> None:
    loads = " ".join(f"{load:.2f}" for load in os.getloadavg())
    print(f"load average before: {loads}")
    conn = await asyncpg.connect(scratch_url)
    try:
        await migrate(conn)
        clinic = await seed_clinic(conn, secrets.token_urlsafe(32))
        print(f"PostgreSQL {await conn.fetchval('SHOW server_version')}")
    finally:
        await conn.close()
    with tempfile.TemporaryDirectory(prefix="bench_paced_load_") as build:
        paced_load = compiled_paced_load(Path(build))
        if paced_load is None:
            raise BenchError("the paced load needs a C compiler (cc or gcc)")
        options = options_for(settings, paced_load)
        if not settings.skip_lengths:
            report_lengths(await lengths(scratch_url, clinic, settings, options), settings)
        if not settings.skip_memory:
            report_memory(await memory(scratch_url, clinic, settings, options), settings)


def parse_arguments(argv: list[str]) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench.history_cost")
    parser.add_argument(
        "--lengths", default="10,1000,10000", help="events per goal, shortest first"
    )
    parser.add_argument("--goals", type=int, default=64, help="goals per length")
    parser.add_argument("--rate", type=float, default=200.0, help="check-ins per second")
    parser.add_argument("--duration", type=int, default=15, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=8, help="unmeasured seconds before each")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each length")
    parser.add_argument("--memory-goals", type=int, default=50_000)
    parser.add_argument("--memory-check-ins", type=int, default=1_000_000)
    parser.add_argument("--memory-rate", type=float, default=300.0, help="check-ins per second")
    parser.add_argument("--skip-lengths", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    arguments = parser.parse_args(argv)
    return Settings(
        lengths=sorted(int(text) for text in arguments.lengths.split(",")),
        goals=arguments.goals,
        rate=arguments.rate,
        duration=arguments.duration,
        warmup=arguments.warmup,
        rounds=arguments.rounds,
        memory_goals=arguments.memory_goals,
        memory_check_ins=arguments.memory_check_ins,
        memory_rate=arguments.memory_rate,
        skip_lengths=arguments.skip_lengths,
        skip_memory=arguments.skip_memory,
    )


async def main(argv: list[str]) -> None:
    settings = parse_arguments(argv)
    await on_scratch_database(lambda scratch_url: benchmark(scratch_url, settings))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
