"""What access logging adds to read latency: the same code served with and without it.

    uv run python -m bench.access_log_cost [--revision HEAD] [--rate 300] [--duration 10]
        [--connections 16] [--rounds 3] [--goals 64]

Nothing in the service turns access logging off, on purpose: a setting that stops the record of
who read a client's goals would be one an operator could turn off by mistake. So the benchmark
takes the code of `--revision` (by default `HEAD`) twice with `git archive` into a temporary
directory: "with" as it is, and "without" with the one call that puts the access-logging
middleware around the app (`access_logging(app.asgi_handler)` in services/api/app.py) taken out
of that copy, and nothing else changed. Both are served from there by the same interpreter and
dependencies, on one scratch database (`goals_bench_<random>` on the server `DATABASE_URL` names),
migrated and seeded by the code that runs this (a clinic, a client, `--goals` goals, the client's
token). After each run it counts the records the run left: one per read "with", none "without",
or it stops.

Each round serves each copy in turn (which goes first alternates), one uvicorn worker each, and
measures GET /v1/goals/{goal_id} with the client's token, rotating over the goals:

- paced: `--rate` requests per second for `--duration` seconds, open loop (latency counts from
  when a request fell due), after a few seconds of warm-up: p50 and p99;
- peak: `--connections` connections, closed loop, for `--duration` seconds: reads per second.

The p99 ratio is the median of the rounds' own ratios: one stall of the whole machine lands in
one run's tail. The target (under 10 % added to p99) is reported, never asserted.
"""

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.api_checkins import (
    STOP_TIMEOUT_S,
    Measured,
    free_port,
    log_tail,
    on_scratch_database,
    prepare,
    python_load,
    stop,
    wait_until_ready,
)
from bench.http_load import LoadSpec

HASH_KEY = "bench-access-log-cost-key"
TARGET_ADDED_P99 = 0.10
WARMUP_S = 3
READ_PATH = "/v1/goals/{goal_id}"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


# The one call that records every read: the "without" copy serves the app without it.
ACCESS_LOGGED_APP = "access_logging(app.asgi_handler)"
UNLOGGED_APP = "app.asgi_handler"


@dataclass(frozen=True)
class Options:
    revision: str
    rate: float
    duration: int
    connections: int
    rounds: int
    goals: int


@dataclass(frozen=True)
class Run:
    paced: Measured
    peak: Measured


def export_tree(revision: str, into: Path) -> str:
    """The revision's files in `into`; its commit id."""
    commit = subprocess.run(  # noqa: S603 - git with our own arguments
        ["git", "rev-parse", "--short", revision],  # noqa: S607
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    archive = subprocess.run(  # noqa: S603
        ["git", "archive", "--format=tar", commit],  # noqa: S607
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)  # noqa: S603, S607
    return commit


def without_access_logging(tree: Path) -> None:
    """Takes the access-logging middleware out of `tree`'s app, and nothing else."""
    app_module = tree / "services" / "api" / "app.py"
    source = app_module.read_text()
    if source.count(ACCESS_LOGGED_APP) != 1:
        raise SystemExit(f"{app_module} no longer wraps the app in `{ACCESS_LOGGED_APP}` once")
    app_module.write_text(source.replace(ACCESS_LOGGED_APP, UNLOGGED_APP))


@asynccontextmanager
async def serving(tree: Path, scratch_url: str, log_path: Path) -> AsyncIterator[str]:
    """`goals api` from `tree`'s code, one worker, until the block ends; its base URL."""
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
        "PYTHONPATH": str(tree),
    }
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.cli",
            "api",
            cwd=tree,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            await wait_until_ready(tree.name, process, base_url + "/health/live", log_path)
            yield base_url
        finally:
            await asyncio.wait_for(stop(process), STOP_TIMEOUT_S * 2)


async def measure(base_url: str, token: str, goals: list[str], options: Options) -> Run:
    def spec(duration: float, rate: float | None) -> LoadSpec:
        return LoadSpec(
            base_url, token, goals, options.connections, duration, rate, read_path=READ_PATH
        )

    await python_load(spec(WARMUP_S, None))
    paced = await python_load(spec(options.duration, options.rate))
    peak = await python_load(spec(options.duration, None))
    for measured in (paced, peak):
        if measured.failed:
            raise SystemExit(f"reads failed: {measured.first_error}")
    return Run(paced, peak)


async def records(scratch_url: str) -> int:
    conn = await asyncpg.connect(scratch_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM access_log"))
    finally:
        await conn.close()


async def benchmark(scratch_url: str, options: Options) -> None:
    _, seeded = await prepare(scratch_url, HASH_KEY, options.goals)
    goals = [str(goal) for goal in seeded.peak_goals]
    with tempfile.TemporaryDirectory() as directory:
        trees = {"without": Path(directory) / "without", "with": Path(directory) / "with"}
        for tree in trees.values():
            tree.mkdir()
            commit = export_tree(options.revision, tree)
        without_access_logging(trees["without"])
        runs: dict[str, list[Run]] = {"without": [], "with": []}
        for round_number in range(options.rounds):
            order = ["without", "with"] if round_number % 2 == 0 else ["with", "without"]
            for name in order:
                log_path = Path(directory) / f"{name}-{round_number}.log"
                before = await records(scratch_url)
                try:
                    async with serving(trees[name], scratch_url, log_path) as base_url:
                        run = await measure(base_url, seeded.token, goals, options)
                except Exception:
                    print(log_tail(log_path), file=sys.stderr)
                    raise
                logged = await records(scratch_url) - before
                reads = run.paced.requests + run.peak.requests
                recorded_each = logged >= reads if name == "with" else logged == 0
                if not recorded_each:
                    raise SystemExit(f"{name}: {logged} access records for {reads}+ reads")
                runs[name].append(run)
                print(
                    f"round {round_number + 1} {name:>7}: paced p50 {run.paced.p50_ms:.2f} ms "
                    f"p99 {run.paced.p99_ms:.2f} ms ({run.paced.requests} reads); peak "
                    f"{run.peak.rate:.0f}/s p50 {run.peak.p50_ms:.2f} ms "
                    f"p99 {run.peak.p99_ms:.2f} ms; access records {logged}",
                    flush=True,
                )
    report(runs, commit, options)


def report(runs: dict[str, list[Run]], commit: str, options: Options) -> None:
    def median(name: str, phase: str, figure: str) -> float:
        return statistics.median(getattr(getattr(run, phase), figure) for run in runs[name])

    p99_ratios = [
        with_run.paced.p99_ms / without_run.paced.p99_ms
        for with_run, without_run in zip(runs["with"], runs["without"], strict=True)
    ]
    added = statistics.median(p99_ratios) - 1
    print(
        f"{options.revision} ({commit}) with and without access logging; "
        f"paced at {options.rate:.0f}/s"
    )
    for name in ("without", "with"):
        print(
            f"{name:>7}: paced p50 {median(name, 'paced', 'p50_ms'):.2f} ms, "
            f"p99 {median(name, 'paced', 'p99_ms'):.2f} ms; "
            f"peak {median(name, 'peak', 'rate'):.0f}/s"
        )
    verdict = "met" if added < TARGET_ADDED_P99 else "NOT met"
    print(
        f"access logging adds {added * 100:+.1f} % to paced p99 (median of rounds "
        f"{', '.join(f'{(ratio - 1) * 100:+.1f} %' for ratio in p99_ratios)}); "
        f"target < {TARGET_ADDED_P99 * 100:.0f} %: {verdict}"
    )


def parse_arguments(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.access_log_cost")
    parser.add_argument("--revision", default="HEAD", help="the code to serve, with and without")
    parser.add_argument("--rate", type=float, default=300.0, help="paced reads per second")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--goals", type=int, default=64)
    arguments = parser.parse_args(argv)
    return Options(
        arguments.revision,
        arguments.rate,
        arguments.duration,
        arguments.connections,
        arguments.rounds,
        arguments.goals,
    )


async def main(argv: list[str]) -> None:
    options = parse_arguments(argv)
    await on_scratch_database(lambda scratch_url: benchmark(scratch_url, options))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
