"""Projection lag: how long after an event is written its goal's summary shows it, under load.

    uv run python -m bench.projection_lag [--duration 30] [--warmup 3] [--peak-duration 10]
        [--connections 64] [--goals 64] [--sample-interval-ms 20] [--catch-up-timeout 60]
        [--load-generator auto|wrk|python]

Creates a scratch database `goals_bench_<random>` on the server that `DATABASE_URL` names,
migrates it and seeds a clinic as bench.api_checkins does (a client with two sets of `--goals`
goals and a bearer token), then starts the API (`goals api`, 2 uvicorn workers) and the worker
service (`goals worker`: 2 Dramatiq processes of 4 threads and the relay, on the Redis that
`REDIS_URL` names, under a Redis key prefix of its own) as subprocesses, each in a process group
of its own that is killed at the end. The database and the run's Redis keys go at the end too,
whatever happened.

1. Peak: `--connections` keep-alive connections, closed loop, for `--peak-duration` seconds after
   a short warm-up, checking in on the first set of goals (wrk when installed, else
   bench/http_load.py). The worker service runs meanwhile, as it would in production.
2. Once the projection has caught up with that, the second set of goals gets half that rate,
   paced (open loop), for `--warmup` + `--duration` seconds.
3. Throughout the paced load a sampler polls, every `--sample-interval-ms`,
   `SELECT goal_id, version, clock_timestamp() FROM goal_summaries WHERE goal_id = ANY($1)` for
   those goals and keeps, per goal, the first time it saw each new version.
4. After the load, and once the sampler has seen every goal's summary reach its stream's last
   version (or `--catch-up-timeout` has passed), every event recorded in those streams after the
   warm-up is matched with the first observation of its goal at a version at least its own:

       lag = that observation's clock_timestamp() - the event's recorded_at

   Both sides come from the database's clock, so no clock of this process is involved.
   `recorded_at` is when the event's INSERT began, inside the API's transaction, so the lag
   includes the rest of that transaction and its commit, the relay's wake-up and enqueue, Redis,
   the Dramatiq worker and the projection's own transaction. Each lag is late by at most the gap
   between two polls, which is reported as the resolution.

Events whose goal's summary was never seen at their version are failures: the exit status is
non-zero when there is one, or when any request failed; never because of how long the lag was.
"""

import argparse
import asyncio
import bisect
import itertools
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import asyncpg
import msgspec
import redis
import redis.asyncio

from bench.api_checkins import (
    HAS_PROC,
    BenchError,
    Measured,
    Seeded,
    Server,
    add_load_generator_option,
    api_command,
    chosen_wrk,
    free_port,
    generate,
    log_tail,
    on_scratch_database,
    percentile_ms,
    phase,
    positive,
    prepare,
    served,
    server_environment,
    stop,
)
from bench.api_checkins import Options as LoadOptions
from infra.config import settings_from
from infra.goals.streams import goal_stream
from infra.projections.feed import RELAY

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PACED_FRACTION = 0.5
PEAK_WARMUP_S = 3
API_WORKERS = 2
API_POOL_MAX = 20
WORKER_PROCESSES = 2
WORKER_THREADS = 4
WORKER_READY_TIMEOUT_S = 60.0
TIMELINE_WINDOW_S = 5
SAMPLE_QUERY = (
    "SELECT goal_id, version, clock_timestamp() FROM goal_summaries WHERE goal_id = ANY($1)"
)


@dataclass(frozen=True)
class Options:
    duration: int
    warmup: int
    peak_duration: int
    connections: int
    goals: int
    sample_interval: float
    """Seconds between two polls of the summaries."""
    catch_up_timeout: float
    wrk: str | None

    def load(self) -> LoadOptions:
        """What bench.api_checkins' servers and load generators take."""
        return LoadOptions(
            connections=self.connections,
            duration=self.duration,
            warmup=self.warmup,
            goals=self.goals,
            workers=API_WORKERS,
            pool_max=API_POOL_MAX,
            rounds=1,
            wrk=self.wrk,
        )


# --- the worker service -------------------------------------------------------------------------


def worker_command() -> list[str]:
    goals = Path(sys.executable).with_name("goals")
    if goals.exists():
        return [str(goals), "worker"]
    return [sys.executable, "-m", "services.cli", "worker"]


def worker_environment(scratch_url: str, namespace: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        DATABASE_URL=scratch_url,
        BROKER_NAMESPACE=namespace,
        WORKER_PROCESSES=str(WORKER_PROCESSES),
        WORKER_THREADS=str(WORKER_THREADS),
        LOG_LEVEL="warning",
        LOG_FORMAT="json",
    )
    return environment


def process_group_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[2])


def end_process_group(group: int) -> None:
    """Kills what is left of a process group whose leader has been stopped."""
    if HAS_PROC:
        # A group's id is not given to a new process while any member of the group lives, so a
        # member found here means the group is still the one this benchmark started.
        members = (
            entry.name
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and process_group_of(int(entry.name)) == group
        )
        if next(members, None) is None:
            return
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


@dataclass(frozen=True)
class Worker:
    process: asyncio.subprocess.Process
    log_path: Path

    def check_running(self) -> None:
        if self.process.returncode is not None:
            raise BenchError(
                f"the worker service exited with status {self.process.returncode}:\n"
                f"{log_tail(self.log_path)}"
            )


@asynccontextmanager
async def worker_service(environment: dict[str, str], log_path: Path) -> AsyncIterator[Worker]:
    log = log_path.open("wb")
    try:
        process = await asyncio.create_subprocess_exec(
            *worker_command(),
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield Worker(process, log_path)
        finally:
            # Its SIGTERM handler stops the relay and the Dramatiq processes; anything that
            # outlives that goes with the group.
            await stop(process)
            end_process_group(process.pid)
    finally:
        log.close()


@asynccontextmanager
async def api_service(
    scratch_url: str, hash_key: str, options: LoadOptions, log_dir: Path
) -> AsyncIterator[Server]:
    environment = server_environment(scratch_url, free_port(), hash_key, options)
    group = None
    try:
        async with served("api", api_command(), environment, "/health/ready", log_dir) as server:
            group = server.pid
            yield server
    finally:
        if group is not None:
            end_process_group(group)


async def delete_broker_keys(redis_url: str, namespace: str) -> None:
    """Removes the run's own keys from the shared Redis; nothing else there is touched."""
    client = redis.asyncio.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{namespace}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    except redis.RedisError as error:
        print(f"could not delete the Redis keys {namespace}:*: {error}", file=sys.stderr)
    finally:
        await client.aclose()


# --- the projection, seen from the database -----------------------------------------------------


async def goals_behind(conn: asyncpg.Connection, goal_ids: Sequence[UUID]) -> int:
    """How many of the goals have a summary older than their stream, or none yet."""
    behind = await conn.fetchval(
        """
        SELECT count(*) FROM unnest($1::uuid[], $2::text[]) AS goal (goal_id, stream_id)
        JOIN streams s ON s.stream_id = goal.stream_id
        LEFT JOIN goal_summaries g ON g.goal_id = goal.goal_id
        WHERE coalesce(g.version, 0) < s.version
        """,
        list(goal_ids),
        [goal_stream(goal_id) for goal_id in goal_ids],
    )
    return int(behind)


async def events_not_relayed(conn: asyncpg.Connection) -> int:
    behind = await conn.fetchval(
        """
        SELECT count(*) FROM events e
        LEFT JOIN consumer_checkpoints c ON c.consumer = $1
        WHERE c.consumer IS NULL OR (e.transaction_id, e.position) > (c.transaction_id, c.position)
        """,
        RELAY,
    )
    return int(behind)


async def wait_for_relay(conn: asyncpg.Connection, worker: Worker, within_s: float) -> None:
    """Until the relay has handed the whole log to Redis.

    The summaries alone would not show that: on a database it has not seen, the worker service
    rebuilds them from the log at start, before the relay has enqueued anything.
    """
    deadline = time.monotonic() + within_s
    while (behind := await events_not_relayed(conn)) > 0:
        worker.check_running()
        if time.monotonic() > deadline:
            raise BenchError(
                f"the relay still had {behind} events to hand over {within_s:.0f} s after the "
                f"worker service started:\n{log_tail(worker.log_path)}"
            )
        await asyncio.sleep(0.1)


async def wait_for_projection(
    conn: asyncpg.Connection,
    worker: Worker,
    goal_ids: Sequence[UUID],
    within_s: float,
    purpose: str,
) -> None:
    deadline = time.monotonic() + within_s
    while (behind := await goals_behind(conn, goal_ids)) > 0:
        worker.check_running()
        if time.monotonic() > deadline:
            raise BenchError(
                f"{behind} goals' summaries still behind their streams {within_s:.0f} s after "
                f"{purpose}:\n{log_tail(worker.log_path)}"
            )
        await asyncio.sleep(0.1)


@dataclass
class Observations:
    """Per goal, the first time (database clock) the sampler saw each new summary version."""

    versions: dict[UUID, list[int]] = field(default_factory=dict)
    seen_at: dict[UUID, list[datetime]] = field(default_factory=dict)
    polls: list[datetime] = field(default_factory=list)

    def record(self, rows: Sequence[asyncpg.Record]) -> None:
        for goal_id, version, clock in rows:
            versions = self.versions.setdefault(goal_id, [])
            if not versions or version > versions[-1]:
                versions.append(version)
                self.seen_at.setdefault(goal_id, []).append(clock)
        if rows:
            self.polls.append(max(row[2] for row in rows))

    def latest(self, goal_id: UUID) -> int:
        versions = self.versions.get(goal_id)
        return versions[-1] if versions else 0

    def first_seen(self, goal_id: UUID, version: int) -> datetime | None:
        """When the goal's summary was first seen at `version` or later."""
        versions = self.versions.get(goal_id, [])
        index = bisect.bisect_left(versions, version)
        return self.seen_at[goal_id][index] if index < len(versions) else None


async def sample(
    conn: asyncpg.Connection,
    goal_ids: list[UUID],
    interval: float,
    observed: Observations,
    done: asyncio.Event,
) -> None:
    loop = asyncio.get_running_loop()
    next_poll = loop.time()
    while not done.is_set():
        observed.record(await conn.fetch(SAMPLE_QUERY, goal_ids))
        # A poll that comes late moves the schedule on rather than making the next ones hurry.
        next_poll = max(next_poll + interval, loop.time())
        await asyncio.sleep(next_poll - loop.time())


async def wait_until_seen(
    conn: asyncpg.Connection,
    observed: Observations,
    sampling: "asyncio.Task[None]",
    goal_ids: list[UUID],
    within_s: float,
) -> bool:
    """Whether the sampler saw every goal's summary reach its stream's last version in time."""
    rows = await conn.fetch(
        "SELECT stream_id, version FROM streams WHERE stream_id = ANY($1::text[])",
        [goal_stream(goal_id) for goal_id in goal_ids],
    )
    by_stream = {goal_stream(goal_id): goal_id for goal_id in goal_ids}
    targets = {by_stream[row[0]]: int(row[1]) for row in rows}
    deadline = time.monotonic() + within_s
    while any(observed.latest(goal_id) < version for goal_id, version in targets.items()):
        # A sampler that failed has its error raised where it is awaited.
        if sampling.done() or time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@dataclass(frozen=True)
class Event:
    goal_id: UUID
    version: int
    recorded_at: datetime


async def events_since(
    conn: asyncpg.Connection, goal_ids: list[UUID], since: datetime
) -> list[Event]:
    by_stream = {goal_stream(goal_id): goal_id for goal_id in goal_ids}
    rows = await conn.fetch(
        """
        SELECT stream_id, stream_version, recorded_at FROM events
        WHERE stream_id = ANY($1::text[]) AND recorded_at >= $2
        ORDER BY recorded_at
        """,
        list(by_stream),
        since,
    )
    return [Event(by_stream[row[0]], int(row[1]), row[2]) for row in rows]


async def first_event_after(
    conn: asyncpg.Connection, goal_ids: list[UUID], after: datetime
) -> datetime | None:
    first: datetime | None = await conn.fetchval(
        "SELECT min(recorded_at) FROM events "
        "WHERE stream_id = ANY($1::text[]) AND recorded_at > $2",
        [goal_stream(goal_id) for goal_id in goal_ids],
        after,
    )
    return first


# --- the lags -----------------------------------------------------------------------------------


def nanoseconds(span: timedelta) -> int:
    return (span // timedelta(microseconds=1)) * 1000


@dataclass(frozen=True)
class Lags:
    lags_ns: list[int]
    unobserved: int

    @property
    def count(self) -> int:
        return len(self.lags_ns)


def lags_of(events: Sequence[Event], observed: Observations) -> Lags:
    lags_ns, unobserved = [], 0
    for event in events:
        seen = observed.first_seen(event.goal_id, event.version)
        if seen is None:
            unobserved += 1
        else:
            lags_ns.append(nanoseconds(seen - event.recorded_at))
    return Lags(lags_ns, unobserved)


def timeline(
    events: Sequence[Event], observed: Observations, began: datetime
) -> list[tuple[int, Lags]]:
    """The lags of the events recorded in each `TIMELINE_WINDOW_S` from `began`."""
    windows: dict[int, list[Event]] = {}
    for event in events:
        offset = int((event.recorded_at - began).total_seconds() // TIMELINE_WINDOW_S)
        windows.setdefault(offset * TIMELINE_WINDOW_S, []).append(event)
    return [(start, lags_of(windows[start], observed)) for start in sorted(windows)]


def poll_gaps_ns(polls: Sequence[datetime], began: datetime) -> list[int]:
    measured = [poll for poll in polls if poll >= began]
    return [nanoseconds(later - earlier) for earlier, later in itertools.pairwise(measured)]


# --- the worker's log ---------------------------------------------------------------------------


class LogLine(msgspec.Struct):
    event: str = "?"
    level: str = "?"


# Dramatiq's command line logs in its own format until the workers have configured structlog.
DRAMATIQ_LINE = re.compile(r"^\[[^]]*\] \[PID \d+\] \[[^]]*\] \[([^]]+)\] \[([A-Z]+)\] (.*)$")


# Dramatiq's worker processes log through a pipe to its main process, one message per write;
# a JSON line's newline is a write of its own, so the other process's line can come between.
GLUED_JSON = re.compile(r"\n|(?<=\})(?=\{)")


def worker_log_summary(path: Path) -> tuple[Counter[str], list[str]]:
    """Its lines counted by level and event, and the lines in neither format (tracebacks)."""
    counted: Counter[str] = Counter()
    other: list[str] = []
    for line in GLUED_JSON.split(path.read_text(errors="replace")):
        if not line.strip():
            continue
        if found := DRAMATIQ_LINE.match(line):
            logger, level, message = found.groups()
            counted[f"{level.lower()} {logger}: {message}"] += 1
            continue
        try:
            entry = msgspec.json.decode(line, type=LogLine)
        except (msgspec.DecodeError, msgspec.ValidationError):
            other.append(line)
            continue
        counted[f"{entry.level} {entry.event}"] += 1
    return counted, other


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Results:
    peak: Measured
    paced_rate: float
    paced: Measured
    lags: Lags
    timeline: list[tuple[int, Lags]]
    poll_gaps_ns: list[int]
    caught_up: bool
    worker_log: Counter[str]
    worker_other_lines: list[str]


async def measure_lag(
    options: Options,
    scratch_url: str,
    server: Server,
    worker: Worker,
    seeded: Seeded,
) -> Results:
    load = options.load()
    control = await asyncpg.connect(scratch_url)
    sampler = await asyncpg.connect(scratch_url)
    try:
        everything = seeded.peak_goals + seeded.paced_goals
        await wait_for_relay(control, worker, WORKER_READY_TIMEOUT_S)
        await wait_for_projection(
            control, worker, everything, WORKER_READY_TIMEOUT_S, "the worker service started"
        )
        peak = await phase(
            replace(load, duration=options.peak_duration),
            server,
            scratch_url,
            seeded.token,
            seeded.peak_goals,
            warmup=PEAK_WARMUP_S,
        )
        # The paced load starts on an idle projection, not on the peak's backlog.
        await wait_for_projection(
            control, worker, everything, options.catch_up_timeout, "the peak run"
        )
        paced_rate = peak.rate * PACED_FRACTION

        goal_ids = seeded.paced_goals
        observed = Observations()
        observed.record(await sampler.fetch(SAMPLE_QUERY, goal_ids))
        sampling_began = observed.polls[0]
        done = asyncio.Event()
        sampling = asyncio.create_task(
            sample(sampler, goal_ids, options.sample_interval, observed, done)
        )
        try:
            paced = await generate(
                load,
                server,
                seeded.token,
                goal_ids,
                seconds=options.warmup + options.duration,
                rate=paced_rate,
            )
            worker.check_running()
            caught_up = await wait_until_seen(
                control, observed, sampling, goal_ids, options.catch_up_timeout
            )
        finally:
            done.set()
            await sampling

        load_began = await first_event_after(control, goal_ids, sampling_began)
        if load_began is None:
            raise BenchError("the paced load wrote no event")
        measured_from = load_began + timedelta(seconds=options.warmup)
        events = await events_since(control, goal_ids, measured_from)
    finally:
        await sampler.close()
        await control.close()
    return Results(
        peak=peak,
        paced_rate=paced_rate,
        paced=paced,
        lags=lags_of(events, observed),
        timeline=timeline(events, observed, measured_from),
        poll_gaps_ns=poll_gaps_ns(observed.polls, measured_from),
        caught_up=caught_up,
        worker_log=Counter(),
        worker_other_lines=[],
    )


async def run(scratch_url: str, options: Options, hash_key: str, seeded: Seeded) -> Results:
    namespace = f"goals_bench_{secrets.token_hex(6)}"
    redis_url = settings_from(dict(os.environ)).redis_url
    with tempfile.TemporaryDirectory(prefix="bench_projection_lag_") as log_dir:
        worker_log = Path(log_dir) / "worker.log"
        try:
            async with (
                api_service(scratch_url, hash_key, options.load(), Path(log_dir)) as server,
                worker_service(worker_environment(scratch_url, namespace), worker_log) as worker,
            ):
                results = await measure_lag(options, scratch_url, server, worker, seeded)
        finally:
            await delete_broker_keys(redis_url, namespace)
        counted, other = worker_log_summary(worker_log)
    return replace(results, worker_log=counted, worker_other_lines=other)


# --- the report ---------------------------------------------------------------------------------


def ms(nanoseconds_: list[int], fraction: float) -> str:
    return f"{percentile_ms(nanoseconds_, fraction):.1f}" if nanoseconds_ else "-"


def report(
    server_version: str,
    options: Options,
    results: Results,
    load_before: tuple[float, float, float],
) -> None:
    reconcile_after = settings_from(dict(os.environ)).reconcile_after_seconds
    generator = "wrk, 1 thread" if options.wrk else "bench/http_load.py"
    peak, paced = results.peak, results.paced
    print(
        f"PostgreSQL {server_version}; {os.cpu_count()} CPU cores; Python "
        f"{platform.python_version()}; load average before the run "
        f"{' '.join(f'{load:.2f}' for load in load_before)}"
    )
    print(
        f"API: uvicorn, {API_WORKERS} workers, a pool of {API_POOL_MAX} connections each; "
        f"worker service: {WORKER_PROCESSES} Dramatiq processes of {WORKER_THREADS} threads, "
        f"reconciler after {reconcile_after:g} s"
    )
    print(
        f"peak: {generator}, {options.connections} connections, closed loop, {PEAK_WARMUP_S} s "
        f"warm-up + {options.peak_duration} s: {peak.rate:,.0f} req/s "
        f"(p50 {peak.p50_ms:.1f} ms, p99 {peak.p99_ms:.1f} ms)"
    )
    print(
        f"paced: {results.paced_rate:,.0f}/s offered over {options.goals} goals, "
        f"{options.warmup} s warm-up + {options.duration} s: {paced.rate:,.0f} req/s "
        f"(p50 {paced.p50_ms:.1f} ms, p99 {paced.p99_ms:.1f} ms)"
    )
    gaps = results.poll_gaps_ns
    print(
        f"sampler: a poll every {options.sample_interval * 1e3:g} ms asked; between polls "
        f"p50 {ms(gaps, 0.5)} ms, max {ms(gaps, 1.0)} ms (the resolution: each lag is late by "
        "at most one gap)"
    )
    print()
    print("projection lag, from an event's recorded_at to its summary first seen at its version,")
    print("for the events recorded after the warm-up:")
    print()
    header = f"{'events':>7} {'unseen':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    print(header)
    lags = results.lags
    print(
        f"{lags.count:>7,} {lags.unobserved:>7} {ms(lags.lags_ns, 0.5):>8} "
        f"{ms(lags.lags_ns, 0.9):>8} {ms(lags.lags_ns, 0.99):>8} {ms(lags.lags_ns, 1.0):>8}"
    )
    print()
    print(f"by when the event was recorded ({TIMELINE_WINDOW_S} s windows after the warm-up):")
    print(f"{'from s':>7} {'events':>7} {'unseen':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for start, window in results.timeline:
        print(
            f"{start:>7} {window.count:>7,} {window.unobserved:>7} {ms(window.lags_ns, 0.5):>8} "
            f"{ms(window.lags_ns, 0.99):>8} {ms(window.lags_ns, 1.0):>8}"
        )
    print()
    if not results.caught_up:
        print(
            f"the projection had not caught up with the paced goals {options.catch_up_timeout:g} s "
            "after the load"
        )
    if results.worker_log or results.worker_other_lines:
        print("the worker service's log (LOG_LEVEL=warning):")
        for line, count in results.worker_log.most_common():
            print(f"  {count:>6} x {line}")
        if results.worker_other_lines:
            print(f"  {len(results.worker_other_lines)} other lines, the first:")
            for line in results.worker_other_lines[:5]:
                print(f"    {line}")
    else:
        print("the worker service logged nothing at warning or above")


def failures(results: Results) -> list[str]:
    problems = [
        f"{name}: {measured.non_2xx} non-2xx, {measured.errors} unanswered; "
        f"first: {measured.first_error}"
        for name, measured in (("peak", results.peak), ("paced", results.paced))
        if measured.failed
    ]
    if results.lags.unobserved:
        problems.append(f"{results.lags.unobserved} events never seen in their goal's summary")
    if not results.caught_up:
        problems.append("the projection did not catch up with the paced load in time")
    return problems


async def benchmark(scratch_url: str, options: Options) -> None:
    load_before = os.getloadavg()
    hash_key = secrets.token_urlsafe(32)
    server_version, seeded = await prepare(scratch_url, hash_key, options.goals)
    results = await run(scratch_url, options, hash_key, seeded)
    report(server_version, options, results, load_before)
    problems = failures(results)
    if problems:
        raise BenchError("\n".join(problems))


def parse_arguments(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.projection_lag",
        description="Projection lag p50/p99 while the API takes half its peak, paced.",
    )
    parser.add_argument(
        "--duration", type=positive, default=30, help="measured seconds of the paced load"
    )
    parser.add_argument(
        "--warmup", type=positive, default=3, help="paced seconds before the measured ones"
    )
    parser.add_argument(
        "--peak-duration", type=positive, default=10, help="seconds of the closed-loop peak run"
    )
    parser.add_argument("--connections", type=positive, default=64, help="concurrent connections")
    parser.add_argument(
        "--goals", type=positive, default=64, help="goals per phase, checked in on in turn"
    )
    parser.add_argument(
        "--sample-interval-ms",
        type=positive,
        default=20,
        help="milliseconds between two polls of the goal summaries",
    )
    parser.add_argument(
        "--catch-up-timeout",
        type=positive,
        default=60,
        help="seconds the projection gets to catch up after each load",
    )
    add_load_generator_option(parser, "for the peak run")
    arguments = parser.parse_args(argv)
    wrk = chosen_wrk(parser, arguments)
    return Options(
        duration=arguments.duration,
        warmup=arguments.warmup,
        peak_duration=arguments.peak_duration,
        connections=arguments.connections,
        goals=arguments.goals,
        sample_interval=arguments.sample_interval_ms / 1e3,
        catch_up_timeout=arguments.catch_up_timeout,
        wrk=wrk,
    )


async def main(argv: list[str]) -> None:
    options = parse_arguments(argv)
    await on_scratch_database(lambda scratch_url: benchmark(scratch_url, options))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
