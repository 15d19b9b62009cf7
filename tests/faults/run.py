"""A fault run: load on the whole stack, faults one after another, then the history check."""

import asyncio
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.faults import checker, rebuild
from tests.faults.faults import Fault
from tests.faults.history import History, Outcome
from tests.faults.load import Load
from tests.faults.logs import Unhandled, named, unhandled_errors
from tests.faults.observe import FaultResult, observe
from tests.faults.stack import Stack
from tests.faults.world import World, Writer
from tests.waiting import wait_until

CATCH_UP_SECONDS = 45.0
# How long a fault waits for every process to be up (after the one before) before it goes in.
WHOLE_SECONDS = 30.0
_WARM_UP_SECONDS, _WARM_UP_WRITES = 20.0, 30


@dataclass(frozen=True)
class Shape:
    """How much load: sessions writing at once, and the goals they share."""

    sessions: int = 8
    clients: int = 3
    goals_per_client: int = 4
    between_faults: float = 0.5
    """Seconds of plain load after each recovery, before the next fault."""
    seed: int = 10


@dataclass
class RunReport:
    started_at: datetime
    faults: list[FaultResult] = field(default_factory=list)
    breaches: dict[str, list[str]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)
    unhandled_errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds each phase ended at: set-up, faults, checks."""

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.faults) and not any(self.breaches.values())

    def failures(self) -> str:
        """Every failed fault and breached check, for an assertion message."""
        lines = [
            f"fault {result.fault.name}: {finding}"
            for result in self.faults
            for finding in result.findings
        ]
        lines += [
            f"{check}: {breach}" for check, found in self.breaches.items() for breach in found
        ]
        if self.unhandled_errors:
            lines.append(f"API unhandled errors, by exception: {self.unhandled_errors}")
        phases = ", ".join(f"{name} {moment:.0f} s" for name, moment in self.phases.items())
        lines.append(f"phases ended at: {phases}; all closed at {self.seconds:.0f} s")
        return "\n".join(lines)

    def table(self) -> str:
        rows = [
            "| fault | what clients saw | writes back after | recovered after | verdict |",
            "| --- | --- | --- | --- | --- |",
        ]
        for result in self.faults:
            verdict = "pass" if result.passed else "FAIL: " + " / ".join(result.findings)
            rows.append(
                f"| {result.fault.what} | {result.seen} | {result.seconds(result.writes_back)} "
                f"| {result.seconds(result.recovered)} | {verdict.replace('|', '/')} |"
            )
        return "\n".join(rows)


def writers_of(world: World, sessions: int) -> list[Writer]:
    """Half the sessions as the therapist on every goal, half as clients on their own."""
    return [
        world.therapist if number % 2 == 0 else world.clients[number // 2 % len(world.clients)]
        for number in range(sessions)
    ]


async def fault_run(
    directory: Path, faults: Iterator[Fault], shape: Shape, lifetime: float
) -> RunReport:
    """Starts the stack, loads it, injects `faults` one after another, checks the history."""
    report = RunReport(datetime.now(UTC))
    stack = Stack(directory, lifetime)
    try:
        world = await stack.start(shape.clients, shape.goals_per_client)
        history = History()
        load = Load(
            stack.base_url, writers_of(world, shape.sessions), history, stack.clock, shape.seed
        )
        load.start(until=lifetime - CATCH_UP_SECONDS)

        async def warmed_up() -> bool:
            return history.counts()[Outcome.ACKNOWLEDGED] >= _WARM_UP_WRITES

        report.phases["set up"] = stack.clock()
        await wait_until(warmed_up, _WARM_UP_SECONDS)
        for fault in faults:
            whole = await wait_until(stack.whole, WHOLE_SECONDS)
            started = stack.clock()
            noticed = (
                []
                if whole
                else [f"a process was still down {WHOLE_SECONDS:.0f} s after the fault before"]
            )
            noticed += await fault.inject(stack)
            result = await observe(stack, history, fault, started, stack.clock())
            result.findings[:0] = noticed
            report.faults.append(result)
            await asyncio.sleep(shape.between_faults)  # plain load between faults
        await load.stop()
        report.phases["faults"] = stack.clock()
        report.outcomes = {str(key): value for key, value in history.counts().items()}
        report.refusals = history.refusals()
        report.breaches = await final_checks(stack, history)
        report.phases["checks"] = stack.clock()
        errors = unhandled_errors(directory, stack.wall_started)
        report.unhandled_errors = dict(Counter(error.exception for error in errors))
        if outside := errors_outside_faults(history, errors, report.faults):
            report.breaches["outside faults"] = outside
    finally:
        await stack.close()
        report.seconds = stack.clock()
    return report


async def final_checks(stack: Stack, history: History) -> dict[str, list[str]]:
    """The history check, once the workers have caught up with the log."""
    breaches: dict[str, list[str]] = {}

    async def caught_up() -> bool:
        """Every event relayed and, but on goals stalled for good, projected."""
        conn = await stack.connect()
        try:
            head = await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")
            return await checker.relay_at_head(conn) and await checker.goals_behind(conn, head) == 0
        finally:
            await conn.close()

    if not await wait_until(caught_up, CATCH_UP_SECONDS, interval=0.5):
        breaches["caught up"] = [f"the workers had not caught up after {CATCH_UP_SECONDS:.0f} s"]
    conn = await stack.connect()
    try:
        log = await checker.read_log(conn)
        breaches["writes"] = checker.check_writes(history, log)
        breaches["streams"] = await checker.check_streams(conn, log)
        breaches["projection"] = await checker.check_projection(conn)
        breaches["checkpoints"] = await checker.check_checkpoints(conn)
        breaches["dead letters"] = await checker.check_dead_letters(conn)
        before = await rebuild.snapshot(conn)
        rebuilt = await rebuild.rebuild(stack.env)
        after = await rebuild.snapshot(conn)
    finally:
        await conn.close()
    breaches["fresh rebuild"] = rebuild.differences(before, after)
    if rebuilt.exit_code != 0:
        breaches["fresh rebuild"].insert(0, f"exited {rebuilt.exit_code}: {rebuilt.last_line}")
    return {check: found for check, found in breaches.items() if found}


def errors_outside_faults(
    history: History, errors: list[Unhandled], faults: list[FaultResult]
) -> list[str]:
    """5xx answers and broken requests while no fault was on: the service's own failures, with
    the exceptions the API logged for its 500s meanwhile."""
    windows = [(result.started, result.closed) for result in faults]

    def quiet(moment: float) -> bool:
        return not any(start <= moment <= end for start, end in windows)

    outside = Counter(
        attempt.describe()
        for op in history.operations
        for attempt in op.attempts
        if attempt.outcome is Outcome.UNKNOWN and quiet(attempt.ended_at)
    )
    found = [f"{count} answers {label} while no fault was on" for label, count in outside.items()]
    if behind := named([error for error in errors if quiet(error.at)]):
        found.append(f"the API logged, while no fault was on: {behind}")
    return found
