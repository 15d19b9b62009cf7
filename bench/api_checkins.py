"""Authenticated check-ins per second through the API, against a raw-INSERT ceiling.

    uv run python -m bench.api_checkins [--connections 64] [--duration 20] [--warmup 5]
        [--goals 1024] [--rounds 3] [--paced-runs 3] [--load-generator auto|wrk|python]
        [--paced-generator auto|c|python]

Creates a scratch database `goals_bench_<random>` on the server that `DATABASE_URL` names,
migrates it, seeds a clinic (a therapist, a client on the therapist's care team, the client's
goals and a bearer token for the client), and drops it at the end.

Two servers are measured, each under uvicorn with the same worker count, pool size, log level
(info, the production default) and garbage-collector tuning:

- raw: bench/raw_insert_app.py, one INSERT into `events` per request and nothing else, the
  ceiling for any check-in through this schema and this stack;
- api: the real API (`goals api`), POST /v1/goals/{goal_id}/check-ins with the client's token:
  the token, the care team and the goal's new events read, access checked, the rules decided,
  the event appended and the goal rendered back.

Each round gives both `--connections` concurrent keep-alive connections, closed loop, for
`--duration` seconds after `--warmup` seconds, one server after the other (which goes first
alternates); the ratio is the median of the rounds' own API/raw ratios. Then, `--paced-runs`
times, after a VACUUM ANALYZE and a CHECKPOINT (so that neither autovacuum catching up on the
inserts before, nor a checkpoint writing out what they and the vacuum dirtied, falls into it), a
fresh API server gets half the median API peak, paced at a fixed rate (open loop, so
latency counts from when each request fell due); the p99 is the median of the runs' own p99s,
since one stall of the whole machine (all processes, the load generator's too, held for a
second) puts all of its requests into one run's tail. The raw route is paced the same way, at
half its own median peak, for reference: its cost per request hardly changes with the rate. The
check-ins rotate over `--goals` goals, as a clinic's check-ins spread over its goals: with as few
goals as connections, one goal's check-ins overlap and the run measures retries after conflicts
rather than check-ins. The paced runs have goals of their own. The streams' length at the end is
reported.

The CPU time per request of the uvicorn processes and of the database's backends (read from
/proc, when the database runs on this machine) is reported too: unlike the rates, it hardly moves
when other work shares the machine.

The closed-loop load comes from `wrk` when it is installed (one thread, so that its share of the
cores stays small and it takes the goals strictly in turn), otherwise from bench/http_load.py.
The paced load comes from bench/paced_load.c, built with the machine's C compiler, when there is
one (it takes a tenth of the CPU time per request that the Python generator takes from the cores
it shares with the servers), otherwise from bench/http_load.py. The targets are reported, never
asserted: the exit status is non-zero only when something fails, including any answer other
than 2xx.
"""

import argparse
import asyncio
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO
from uuid import UUID, uuid4

import asyncpg
import httpx
import msgspec

from bench.http_load import LoadResult, LoadSpec
from domain.goals.commands import Actor, SetGoal
from domain.goals.terms import GoalTerms, Measure
from infra.access import identity
from infra.access.clinics import goal_bounds, start_clinic, system_metadata
from infra.access.queries import User
from infra.config import Settings
from infra.db.connection import Connection
from infra.db.migrate import migrate
from infra.db.pool import create_database_if_missing, drop_database, url_for_database
from infra.goals.handler import CommandContext, handle
from infra.goals.streams import goal_stream
from infra.logging import configure_logging

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_RATIO = 0.60
TARGET_P99_MS = 25.0
PACED_FRACTION = 0.5
PACED_WARMUP_S = 3
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
CLIENT_TOKEN_LIFETIME = timedelta(days=1)
CORRELATION_ID = "bench-api-checkins"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HAS_PROC = Path("/proc/self/stat").exists()

# Prints one machine-readable line when wrk is done; latencies are in microseconds.
WRK_SCRIPT = """
local token = "%(token)s"
local goals = {%(goals)s}
local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
local body = '{"amount": 1}'
local turn = 0

request = function()
  turn = turn %% #goals + 1
  return wrk.format("POST", "/v1/goals/" .. goals[turn] .. "/check-ins", headers, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT {\\"requests\\": %%.0f, \\"duration_us\\": %%.0f, \\"status\\": %%.0f, "
      .. "\\"connect\\": %%.0f, \\"read\\": %%.0f, \\"write\\": %%.0f, \\"timeout\\": %%.0f, "
      .. "\\"p50_us\\": %%.1f, \\"p99_us\\": %%.1f}\\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


class BenchError(Exception):
    """The benchmark could not run as designed; the message says why."""


class WrkResult(msgspec.Struct, frozen=True):
    requests: float
    duration_us: float
    status: float
    connect: float
    read: float
    write: float
    timeout: float
    p50_us: float
    p99_us: float


@dataclass(frozen=True)
class Measured:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    """Requests that got no answer at all: refused, reset or timed out."""
    first_error: str | None = None
    generator_cores: float | None = None
    """The Python load generator's CPU time over its wall time, when it was the generator."""
    server_cpu_ms: float | None = None
    database_cpu_ms: float | None = None
    """Per request; None when the database's backends are not processes of this machine."""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def failed(self) -> int:
        return self.non_2xx + self.errors


@dataclass(frozen=True)
class Seeded:
    token: str
    peak_goals: list[UUID]
    paced_goals: list[UUID]


@dataclass(frozen=True)
class Options:
    connections: int
    duration: int
    warmup: int
    goals: int
    workers: int
    pool_max: int
    rounds: int
    wrk: str | None
    paced_runs: int = 3
    paced_generator: str = "auto"
    paced_load: str | None = None
    """bench/paced_load.c, compiled for this run; None: bench/http_load.py paces the load."""


# --- the scratch clinic -------------------------------------------------------------------------


def goal_terms(today: date) -> GoalTerms:
    return GoalTerms(
        statement="Walk for 30 minutes, three times a week",
        life_area="physical_health",
        values=("health", "calm"),
        measure=Measure("count", 3, "walks", "per_week"),
        cue="When I finish lunch, I will walk around the park",
        start_date=today - timedelta(days=7),
        due_date=today + timedelta(days=60),
        priority="medium",
        time_zone="UTC",
    )


async def seed(conn: Connection, hash_key: str, goals_per_phase: int) -> Seeded:
    admin, _ = await start_clinic(conn, "Bench clinic", "admin@bench.example", hash_key)
    metadata = system_metadata(CORRELATION_ID)
    now = datetime.now(UTC)
    therapist = User(
        uuid4(),
        admin.clinic_id,
        "therapist",
        "Bench therapist",
        "therapist@bench.example",
        "UTC",
        now,
    )
    client = User(
        uuid4(), admin.clinic_id, "client", "Bench client", "client@bench.example", "UTC", now
    )
    for user in (therapist, client):
        await identity.register_user(conn, user, metadata)
    await identity.assign_therapist(conn, client.id, therapist.id, metadata)
    token = await identity.issue_token(
        conn,
        token_id=uuid4(),
        user_id=client.id,
        lifetime=CLIENT_TOKEN_LIFETIME,
        hash_key=hash_key,
        metadata=metadata,
    )
    terms = goal_terms(now.date())
    set_by = Actor(therapist.id, "therapist")
    opened = (await goal_bounds(conn, admin.clinic_id)).opened_at

    async def new_goal() -> UUID:
        goal_id = uuid4()
        command = SetGoal(goal_id, client.id, terms, set_by, now, opened)
        await handle(conn, command, CommandContext(uuid4(), admin.clinic_id, CORRELATION_ID))
        return goal_id

    peak = [await new_goal() for _ in range(goals_per_phase)]
    paced = [await new_goal() for _ in range(goals_per_phase)]
    return Seeded(token.secret, peak, paced)


async def prepare(scratch_url: str, hash_key: str, goals_per_phase: int) -> tuple[str, Seeded]:
    conn = await asyncpg.connect(scratch_url)
    try:
        await migrate(conn)
        async with conn.transaction():
            seeded = await seed(conn, hash_key, goals_per_phase)
        server_version = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return str(server_version), seeded


async def settle_database(scratch_url: str) -> None:
    """Does now what the database would otherwise do during the next phase, after the phases
    before wrote hundreds of thousands of rows: autovacuum's work, and a checkpoint (the peak
    phases write more than a gigabyte of WAL, so one is usually under way when they end). A paced
    run writes under a tenth of the default `max_wal_size` (1 GB) of WAL: it starts none itself."""
    conn = await asyncpg.connect(scratch_url)
    try:
        await conn.execute("VACUUM ANALYZE")
        try:
            await conn.execute("CHECKPOINT")
        except asyncpg.InsufficientPrivilegeError:
            print(
                "no checkpoint before the paced run: CHECKPOINT needs a superuser or pg_checkpoint",
                file=sys.stderr,
            )
    finally:
        await conn.close()


async def mean_stream_length(scratch_url: str, goal_ids: list[UUID]) -> float:
    conn = await asyncpg.connect(scratch_url)
    try:
        mean = await conn.fetchval(
            "SELECT avg(version)::float8 FROM streams WHERE stream_id = ANY($1::text[])",
            [goal_stream(goal_id) for goal_id in goal_ids],
        )
    finally:
        await conn.close()
    return float(mean or 0)


# --- the servers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int
    """The uvicorn supervisor; its workers are its children."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_environment(
    scratch_url: str, port: int, hash_key: str, options: Options
) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        DATABASE_URL=scratch_url,
        DATABASE_POOL_MAX=str(options.pool_max),
        API_HOST="127.0.0.1",
        API_PORT=str(port),
        API_WORKERS=str(options.workers),
        LOG_LEVEL="info",
        LOG_FORMAT="json",
        TOKEN_HASH_KEY=hash_key,
        # One client's token drives the whole load: a per-user limit would measure the limit.
        RATE_LIMIT_REQUESTS="0",
    )
    return environment


def api_command() -> list[str]:
    goals = Path(sys.executable).with_name("goals")
    if goals.exists():
        return [str(goals), "api"]
    return [sys.executable, "-m", "services.cli", "api"]


def log_tail(path: Path, lines: int = 30) -> str:
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(the server logged nothing)"


def open_log(path: Path) -> IO[bytes]:
    return path.open("wb")


async def wait_until_ready(
    name: str, process: asyncio.subprocess.Process, url: str, log_path: Path
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            if process.returncode is not None:
                raise BenchError(
                    f"{name} exited with status {process.returncode} before it answered:\n"
                    f"{log_tail(log_path)}"
                )
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"{name} did not answer {url} in time:\n{log_tail(log_path)}")
            await asyncio.sleep(0.2)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)  # uvicorn's supervisor then stops its workers
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
    except TimeoutError:
        # Still running, so the group (its own session, started below) is still ours to end.
        os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


@asynccontextmanager
async def served(
    name: str, command: list[str], environment: dict[str, str], ready_path: str, log_dir: Path
) -> AsyncIterator[Server]:
    """Runs `command` as a server until the block ends, once it answers `ready_path`."""
    base_url = f"http://127.0.0.1:{environment['API_PORT']}"
    log_path = log_dir / f"{name}.log"
    log = open_log(log_path)
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            await wait_until_ready(name, process, base_url + ready_path, log_path)
            yield Server(base_url, process.pid)
        finally:
            await stop(process)
    finally:
        log.close()


# --- CPU time, from /proc: what each check-in costs, however busy the machine is ---------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of one process; 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(parents.get(pid, []))
    return tree


async def database_backends(scratch_url: str) -> list[int]:
    """The PostgreSQL backends serving the scratch database, if they run on this machine."""
    conn = await asyncpg.connect(scratch_url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    pids = [int(row[0]) for row in rows]
    # A server elsewhere (or in a container) has pids that mean nothing, or something else, here.
    local = [pid for pid in pids if read_comm(pid) == "postgres"]
    return local if len(local) == len(pids) else []


def read_comm(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


@dataclass(frozen=True)
class CpuMeter:
    server: list[int]
    backends: list[int]
    server_began: float
    backends_began: float

    @classmethod
    async def start(cls, server: Server, scratch_url: str) -> "CpuMeter":
        # After the warm-up, so that the pools have opened every connection they will use.
        if not HAS_PROC:
            return cls([], [], 0.0, 0.0)
        tree = process_tree(server.pid)
        backends = await database_backends(scratch_url)
        return cls(
            tree,
            backends,
            sum(map(cpu_seconds, tree)),
            sum(map(cpu_seconds, backends)),
        )

    def per_request_ms(self, measured: Measured) -> Measured:
        if not (measured.requests and self.server):
            return measured
        server = sum(map(cpu_seconds, self.server)) - self.server_began
        backends = sum(map(cpu_seconds, self.backends)) - self.backends_began
        return replace(
            measured,
            server_cpu_ms=1e3 * server / measured.requests,
            database_cpu_ms=1e3 * backends / measured.requests if self.backends else None,
        )


# --- the load -----------------------------------------------------------------------------------


async def finish(
    process: asyncio.subprocess.Process, feed: bytes | None = None
) -> tuple[bytes, bytes]:
    """The output of a load generator; if the run is cancelled meanwhile, the generator ends too."""
    try:
        output, errors = await process.communicate(feed)
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return output, errors or b""


def percentile_ms(latencies_ns: list[int], fraction: float) -> float:
    if not latencies_ns:
        return float("nan")
    ordered = sorted(latencies_ns)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index] / 1e6


def measured_from(result: LoadResult, wall_seconds: float) -> Measured:
    return Measured(
        requests=result.requests,
        seconds=result.seconds,
        p50_ms=percentile_ms(result.latencies_ns, 0.50),
        p99_ms=percentile_ms(result.latencies_ns, 0.99),
        non_2xx=result.non_2xx,
        errors=result.transport_errors,
        first_error=result.first_error,
        generator_cores=result.cpu_seconds / wall_seconds,
    )


async def python_load(spec: LoadSpec) -> Measured:
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.http_load",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    output, _ = await finish(process, msgspec.json.encode(spec))
    if process.returncode != 0:
        raise BenchError(f"the load generator failed with status {process.returncode}")
    result = msgspec.json.decode(output, type=LoadResult)
    return measured_from(result, time.monotonic() - began)


async def paced_c_load(paced_load: str, spec: LoadSpec) -> Measured:
    """The open loop of bench/http_load.py, from bench/paced_load.c."""
    assert spec.rate is not None
    host, _, port = spec.base_url.removeprefix("http://").partition(":")
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        paced_load,
        host,
        port,
        str(spec.rate),
        str(spec.duration),
        str(spec.connections),
        spec.token,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    output, errors = await finish(process, "\n".join(spec.goal_ids).encode())
    if process.returncode != 0:
        raise BenchError(f"paced_load failed with status {process.returncode}: {errors.decode()}")
    result = msgspec.json.decode(output, type=LoadResult)
    measured = measured_from(result, time.monotonic() - began)
    if measured.failed:
        first = await probe_failure(spec.base_url, spec.token, UUID(spec.goal_ids[0]))
        measured = replace(measured, first_error=first)
    return measured


def compiled_paced_load(directory: Path) -> str | None:
    """bench/paced_load.c built with the machine's C compiler, or None without one."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    binary = directory / "paced_load"
    source = Path(__file__).with_name("paced_load.c")
    finished = subprocess.run(  # noqa: S603 - the machine's compiler on our own source
        [compiler, "-O2", "-o", str(binary), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise BenchError(f"bench/paced_load.c did not compile:\n{finished.stderr}")
    return str(binary)


async def probe_failure(base_url: str, token: str, goal_id: UUID) -> str:
    """One request like wrk's, to show what a failing server answers (wrk counts, not shows)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as client:
        try:
            response = await client.post(
                f"/v1/goals/{goal_id}/check-ins",
                json={"amount": 1},
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}"
    return f"{response.status_code}: {response.text[:300]}"


async def wrk_load(
    wrk: str, base_url: str, token: str, goal_ids: list[UUID], *, connections: int, seconds: int
) -> Measured:
    script = WRK_SCRIPT % {
        "token": token,
        "goals": ", ".join(f'"{goal_id}"' for goal_id in goal_ids),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench_wrk_") as script_file:
        script_file.write(script)
        script_file.flush()
        process = await asyncio.create_subprocess_exec(
            wrk,
            "--threads=1",
            f"--connections={connections}",
            f"--duration={seconds}s",
            "--timeout=10s",
            f"--script={script_file.name}",
            base_url,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        output, errors = await finish(process)
    found = [line for line in output.decode().splitlines() if line.startswith("WRK_RESULT ")]
    if process.returncode != 0 or not found:
        raise BenchError(f"wrk failed with status {process.returncode}: {errors.decode()}")
    result = msgspec.json.decode(found[-1].removeprefix("WRK_RESULT "), type=WrkResult)
    failed_to_answer = int(result.connect + result.read + result.write + result.timeout)
    non_2xx = int(result.status)
    first_error = None
    if non_2xx or failed_to_answer:
        first_error = await probe_failure(base_url, token, goal_ids[0])
    return Measured(
        requests=int(result.requests),
        seconds=result.duration_us / 1e6,
        p50_ms=result.p50_us / 1e3,
        p99_ms=result.p99_us / 1e3,
        non_2xx=non_2xx,
        errors=failed_to_answer,
        first_error=first_error,
    )


async def generate(
    options: Options,
    server: Server,
    token: str,
    goal_ids: list[UUID],
    *,
    seconds: int,
    rate: float | None,
) -> Measured:
    """Closed loop at `options.connections` (rate None), or open loop at `rate` per second."""
    if rate is None and options.wrk is not None:
        return await wrk_load(
            options.wrk,
            server.base_url,
            token,
            goal_ids,
            connections=options.connections,
            seconds=seconds,
        )
    spec = LoadSpec(
        base_url=server.base_url,
        token=token,
        goal_ids=[str(goal_id) for goal_id in goal_ids],
        connections=options.connections,
        duration=seconds,
        rate=rate,
    )
    if rate is not None and options.paced_load is not None:
        return await paced_c_load(options.paced_load, spec)
    return await python_load(spec)


async def phase(
    options: Options,
    server: Server,
    scratch_url: str,
    token: str,
    goal_ids: list[UUID],
    *,
    warmup: int,
    rate: float | None = None,
) -> Measured:
    """A warm-up whose results are dropped, then the measured run, with its CPU time."""
    await generate(options, server, token, goal_ids, seconds=warmup, rate=rate)
    meter = await CpuMeter.start(server, scratch_url)
    measured = await generate(options, server, token, goal_ids, seconds=options.duration, rate=rate)
    return meter.per_request_ms(measured)


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    raw: Measured
    api: Measured

    @property
    def ratio(self) -> float:
        return self.api.rate / self.raw.rate


@dataclass(frozen=True)
class Results:
    rounds: list[Round]
    paced_rate: float
    api_paced: list[Measured]
    raw_paced_rate: float
    raw_paced: list[Measured]
    """The raw route at half its own peak: what latency this machine gives a route whose cost
    per request hardly changes with the rate."""
    api_stream_length: float
    paced_stream_length: float

    @property
    def ratio(self) -> float:
        """The median of the rounds' own ratios: the two phases of a round ran back to back."""
        return statistics.median(one.ratio for one in self.rounds)

    @property
    def api_peak(self) -> float:
        return statistics.median(one.api.rate for one in self.rounds)

    @property
    def paced_p99_ms(self) -> float:
        """The median of the paced runs' own p99s: a stall of the whole machine lands all of its
        requests in one run's tail."""
        return statistics.median(one.p99_ms for one in self.api_paced)

    @property
    def raw_paced_p99_ms(self) -> float:
        return statistics.median(one.p99_ms for one in self.raw_paced)


async def measure(scratch_url: str, hash_key: str, seeded: Seeded, options: Options) -> Results:
    token = seeded.token
    with tempfile.TemporaryDirectory(prefix="bench_api_checkins_") as log_dir:

        def server(name: str) -> AbstractAsyncContextManager[Server]:
            raw = name == "raw"
            return served(
                name,
                [sys.executable, "-m", "bench.raw_insert_app"] if raw else api_command(),
                server_environment(scratch_url, free_port(), hash_key, options),
                "/health/live" if raw else "/health/ready",
                Path(log_dir),
            )

        async def peak(name: str) -> Measured:
            async with server(name) as running:
                return await phase(
                    options, running, scratch_url, token, seeded.peak_goals, warmup=options.warmup
                )

        rounds = []
        for number in range(options.rounds):
            # Alternating which goes first, so that a drift of the machine weighs on both alike.
            order = ("raw", "api") if number % 2 == 0 else ("api", "raw")
            measured = {name: await peak(name) for name in order}
            rounds.append(Round(raw=measured["raw"], api=measured["api"]))

        async def paced(name: str, rate: float) -> list[Measured]:
            runs = []
            for _ in range(options.paced_runs):
                await settle_database(scratch_url)
                async with server(name) as running:
                    runs.append(
                        await phase(
                            options,
                            running,
                            scratch_url,
                            token,
                            seeded.paced_goals,
                            warmup=PACED_WARMUP_S,
                            rate=rate,
                        )
                    )
            return runs

        paced_rate = statistics.median(one.api.rate for one in rounds) * PACED_FRACTION
        api_paced = await paced("api", paced_rate)
        raw_paced_rate = statistics.median(one.raw.rate for one in rounds) * PACED_FRACTION
        raw_paced = await paced("raw", raw_paced_rate)

    return Results(
        rounds=rounds,
        paced_rate=paced_rate,
        api_paced=api_paced,
        raw_paced_rate=raw_paced_rate,
        raw_paced=raw_paced,
        api_stream_length=await mean_stream_length(scratch_url, seeded.peak_goals),
        paced_stream_length=await mean_stream_length(scratch_url, seeded.paced_goals),
    )


def optional_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def report(
    server_version: str,
    options: Options,
    results: Results,
    load_before: tuple[float, float, float],
) -> None:
    generator = "wrk, 1 thread" if options.wrk else "bench/http_load.py"
    paced = "bench/paced_load.c" if options.paced_load else "bench/http_load.py"
    print(
        f"PostgreSQL {server_version}; {os.cpu_count()} CPU cores; Python "
        f"{platform.python_version()}; load average before the run "
        f"{' '.join(f'{load:.2f}' for load in load_before)}"
    )
    print(
        f"each server: uvicorn, {options.workers} workers, a pool of {options.pool_max} "
        f"connections per worker; peak: {generator}, {options.connections} connections, "
        f"{options.warmup} s warm-up + {options.duration} s, {options.rounds} rounds over "
        f"{options.goals} goals; half peak: {paced}, paced, {options.paced_runs} runs of "
        f"{PACED_WARMUP_S} s warm-up + {options.duration} s"
    )
    print()
    print(
        f"{'phase':<26} {'offered':>9} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>7} {'errors':>6} {'server CPU':>10} {'PG CPU':>7}"
    )
    rows = [
        row
        for number, one in enumerate(results.rounds, start=1)
        for row in (
            (f"{number}: raw INSERT (ceiling)", f"{options.connections} conns", one.raw),
            (f"{number}: API check-in", f"{options.connections} conns", one.api),
        )
    ]
    rows.extend(
        (f"API check-in, half peak {number}", f"{results.paced_rate:,.0f}/s", measured)
        for number, measured in enumerate(results.api_paced, start=1)
    )
    rows.extend(
        (f"raw INSERT, half peak {number}", f"{results.raw_paced_rate:,.0f}/s", measured)
        for number, measured in enumerate(results.raw_paced, start=1)
    )
    for name, offered, measured in rows:
        print(
            f"{name:<26} {offered:>9} {measured.rate:>7,.0f} {measured.p50_ms:>8.2f} "
            f"{measured.p99_ms:>8.2f} {measured.non_2xx:>7} {measured.errors:>6} "
            f"{optional_ms(measured.server_cpu_ms):>10} {optional_ms(measured.database_cpu_ms):>7}"
        )
    print("(CPU: milliseconds per request, in the uvicorn processes and the PostgreSQL backends)")
    print()
    ratio_verdict = "meets" if results.ratio >= TARGET_RATIO else "misses"
    rounds = ", ".join(f"{one.ratio:.1%}" for one in results.rounds)
    print(
        f"API/raw: {results.ratio:.1%}, the median of the rounds' ({rounds}); "
        f"{ratio_verdict} the {TARGET_RATIO:.0%} target"
    )
    p99 = results.paced_p99_ms
    p99_verdict = "meets" if p99 < TARGET_P99_MS else "misses"
    runs = ", ".join(f"{one.p99_ms:.2f}" for one in results.api_paced)
    print(
        f"p99 at half the API's median peak: {p99:.2f} ms, the median of the runs' ({runs}); "
        f"{p99_verdict} the < {TARGET_P99_MS:.0f} ms target"
    )
    print(
        f"for reference, p99 of the raw route at half its own median peak: "
        f"{results.raw_paced_p99_ms:.2f} ms"
    )
    print(
        f"events per goal stream at the end: {results.api_stream_length:.0f} (peak phases), "
        f"{results.paced_stream_length:.0f} (half-peak phase)"
    )
    for name, _, measured in rows:
        if measured.generator_cores is not None:
            print(
                f"the load generator took {measured.generator_cores:.2f} of a core during: {name}"
            )


def failures(results: Results) -> list[str]:
    phases = {
        **{f"raw, round {n}": one.raw for n, one in enumerate(results.rounds, start=1)},
        **{f"api, round {n}": one.api for n, one in enumerate(results.rounds, start=1)},
        **{f"api at half peak, run {n}": one for n, one in enumerate(results.api_paced, start=1)},
        **{f"raw at half peak, run {n}": one for n, one in enumerate(results.raw_paced, start=1)},
    }
    return [
        f"{name}: {measured.non_2xx} non-2xx, {measured.errors} unanswered; "
        f"first: {measured.first_error}"
        for name, measured in phases.items()
        if measured.failed
    ]


async def benchmark(scratch_url: str, options: Options) -> None:
    load_before = os.getloadavg()
    hash_key = secrets.token_urlsafe(32)
    server_version, seeded = await prepare(scratch_url, hash_key, options.goals)
    with tempfile.TemporaryDirectory(prefix="bench_paced_load_") as build:
        if options.paced_generator != "python":
            options = replace(options, paced_load=compiled_paced_load(Path(build)))
            if options.paced_load is None and options.paced_generator == "c":
                raise BenchError("--paced-generator c: no C compiler (cc or gcc) found")
        results = await measure(scratch_url, hash_key, seeded, options)
    report(server_version, options, results, load_before)
    problems = failures(results)
    if problems:
        raise BenchError("requests failed:\n" + "\n".join(problems))


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def parse_arguments(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api_checkins",
        description="Authenticated check-ins per second through the API, against a raw INSERT.",
    )
    parser.add_argument("--connections", type=positive, default=64, help="concurrent connections")
    parser.add_argument("--duration", type=positive, default=20, help="measured seconds per phase")
    parser.add_argument(
        "--warmup", type=positive, default=5, help="unmeasured seconds before each peak phase"
    )
    parser.add_argument(
        "--goals", type=positive, default=1024, help="goals per phase, checked in on in turn"
    )
    parser.add_argument(
        "--rounds", type=positive, default=3, help="rounds of both peak phases; ratio: median"
    )
    parser.add_argument(
        "--workers", type=positive, default=2, help="uvicorn worker processes per server"
    )
    parser.add_argument(
        "--pool-max", type=positive, default=20, help="database connections per worker"
    )
    add_load_generator_option(parser, "for the peak phases")
    parser.add_argument(
        "--paced-runs",
        type=positive,
        default=3,
        help="runs of the half-peak phase, each on a fresh server; p99: their median",
    )
    parser.add_argument(
        "--paced-generator",
        choices=("auto", "c", "python"),
        default="auto",
        help="for the half-peak phase: bench/paced_load.c if a C compiler is found (auto), "
        "or bench/http_load.py",
    )
    arguments = parser.parse_args(argv)
    wrk = chosen_wrk(parser, arguments)
    return Options(
        connections=arguments.connections,
        duration=arguments.duration,
        warmup=arguments.warmup,
        goals=arguments.goals,
        workers=arguments.workers,
        pool_max=arguments.pool_max,
        rounds=arguments.rounds,
        wrk=wrk,
        paced_runs=arguments.paced_runs,
        paced_generator=arguments.paced_generator,
    )


def add_load_generator_option(parser: argparse.ArgumentParser, used_for: str) -> None:
    parser.add_argument(
        "--load-generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help=f"{used_for}: wrk if installed (auto), or the Python generator",
    )


def chosen_wrk(parser: argparse.ArgumentParser, arguments: argparse.Namespace) -> str | None:
    """The wrk binary to use for closed-loop load, or None for the Python generator."""
    wrk = None if arguments.load_generator == "python" else shutil.which("wrk")
    if arguments.load_generator == "wrk" and wrk is None:
        parser.error("--load-generator wrk: wrk is not installed")
    return wrk


async def on_scratch_database(benchmark: Callable[[str], Awaitable[None]]) -> None:
    """Runs `benchmark` on a fresh database of the server `DATABASE_URL` names, then drops it."""
    configure_logging(Settings(log_level="warning"))
    server_url = os.environ.get("DATABASE_URL", DEFAULT_SERVER_URL)
    scratch_url = url_for_database(server_url, f"goals_bench_{secrets.token_hex(6)}")
    if not await create_database_if_missing(scratch_url):
        raise SystemExit(f"scratch database already exists, not touching it: {scratch_url}")
    # SIGTERM, like Ctrl-C, cancels the run, so that the servers and the database go with it.
    run = asyncio.current_task()
    assert run is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, run.cancel)
    try:
        await benchmark(scratch_url)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except asyncio.CancelledError:
        print("benchmark stopped before it finished", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        await drop_database(scratch_url)


async def main(argv: list[str]) -> None:
    options = parse_arguments(argv)
    await on_scratch_database(lambda scratch_url: benchmark(scratch_url, options))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
