"""The long fault run: faults picked at random, one after another, for a bounded time.

    python -m tests.faults.soak --minutes 10 [--output soak-results.md] [--seed N]

It starts the whole service on throwaway servers (as the short run in the suite does), stops by
itself when its time is up, runs the history check, and writes a table per fault kind: what the
clients saw, how long the stack took to recover, and the verdict. It exits 1 if any fault or
check failed.
"""

import argparse
import asyncio
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.faults.faults import FAULTS, Fault
from tests.faults.observe import FaultResult, Seen
from tests.faults.run import CATCH_UP_SECONDS, RunReport, Shape, fault_run

# Room after the last fault for recovery, the history check and a fresh rebuild.
_CLOSING_SECONDS = 150.0
_GAP_SECONDS = (2.0, 8.0)
MAX_FAULTS = 10_000


def random_faults(rng: random.Random, until: float) -> Iterator[Fault]:
    """Each kind of fault once, in random order, then faults at random until `until` (on the
    monotonic clock) has passed."""
    kinds = list(FAULTS.values())
    rng.shuffle(kinds)
    yield from kinds
    for _ in range(MAX_FAULTS):
        if time.monotonic() >= until:
            return
        yield rng.choice(kinds)


def table(results: list[FaultResult]) -> str:
    rows = [
        "| fault | runs | what clients saw (all runs) | writes back after (median, max) "
        "| recovered after (median, max) | verdict |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, fault in FAULTS.items():
        runs = [result for result in results if result.fault.name == name]
        if not runs:
            continue
        seen = sum((result.seen for result in runs), Seen())
        failed = [result for result in runs if not result.passed]
        findings = sorted({finding for result in failed for finding in result.findings})
        verdict = f"pass ({len(runs)}/{len(runs)})"
        if failed:
            more = f" / and {len(findings) - 4} more" if len(findings) > 4 else ""
            verdict = f"FAIL ({len(failed)}/{len(runs)}): " + " / ".join(findings[:4]) + more
        rows.append(
            f"| {fault.what} | {len(runs)} | {seen} | {_spread(runs, 'writes_back')} "
            f"| {_spread(runs, 'recovered')} | {verdict.replace('|', '/')} |"
        )
    return "\n".join(rows)


def _spread(runs: list[FaultResult], moment: str) -> str:
    times = [getattr(r, moment) - r.started for r in runs if getattr(r, moment) is not None]
    never = len(runs) - len(times)
    if not times:
        return "never"
    shown = f"{statistics.median(times):.1f} s, {max(times):.1f} s"
    return shown + (f" ({never} never)" if never else "")


def write_results(report: RunReport, minutes: float, seed: int) -> str:
    command = f"make soak MINUTES={minutes:g}  (python -m tests.faults.soak --minutes {minutes:g}"
    lines = [
        f"Run {report.started_at:%Y-%m-%d %H:%M} UTC, {report.seconds / 60:.1f} minutes: "
        f"`{command} --seed {seed})`",
        "",
        table(report.faults),
        "",
        f"Operations: {report.outcomes}; refused by code: {report.refusals}.",
        "",
        "History check: " + ("every check held." if not report.breaches else "breaches below."),
    ]
    for check, found in report.breaches.items():
        lines += [f"- {check}: {breach}" for breach in found]
    if report.unhandled_errors:
        lines.append(f"- API 500s, by exception in its log: {report.unhandled_errors}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to inject faults")
    parser.add_argument("--seed", type=int, default=None, help="the random seed (default: new)")
    parser.add_argument("--output", type=Path, default=Path("soak-results.md"))
    arguments = parser.parse_args(argv)
    seed = arguments.seed if arguments.seed is not None else random.SystemRandom().randrange(10**6)
    rng = random.Random(seed)
    faulting = arguments.minutes * 60
    lifetime = faulting + _CLOSING_SECONDS + CATCH_UP_SECONDS
    shape = Shape(between_faults=rng.uniform(*_GAP_SECONDS), seed=seed)
    # SIGTERM as Ctrl-C: the run is cancelled, and kills every process it started on its way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="goals-soak-") as directory:
        faults = random_faults(rng, time.monotonic() + faulting)
        report = asyncio.run(fault_run(Path(directory), faults, shape, lifetime))
    results = write_results(report, arguments.minutes, seed)
    arguments.output.write_text(results)
    sys.stdout.write(results)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
