"""How the stack came through one fault: what the clients saw, how long it took to recover,
and what broke on the way. The same measure for every fault:

- writes are back when a write sent after the fault ended is acknowledged;
- the stack has recovered when, besides, the projection holds every event of the log as it
  stood then, and every process is back (two API workers, the Dramatiq workers consuming);
- a finding is anything a client or an operator should not have met: a 500, a service that
  exited when nothing killed it, processes its group left behind, a rebuild that failed.
"""

from collections import Counter
from dataclasses import dataclass, field

import asyncpg

from tests.faults.checker import goals_behind
from tests.faults.faults import Fault
from tests.faults.history import Attempt, History, Outcome
from tests.faults.logs import named, unhandled_errors
from tests.faults.services import api_workers
from tests.faults.stack import API_WORKERS, Stack
from tests.waiting import Predicate, wait_until

RECOVERY_SECONDS = 30.0
_LEFT_OVER_SECONDS = 6.0


@dataclass
class Seen:
    """What the clients saw while a fault was on; several add up, for the long run's table."""

    troubles: Counter[str] = field(default_factory=Counter)
    """Unknown outcomes by answer: `503 database_unavailable`, `timeout`, `ReadError`."""
    error_span: float = 0.0
    """Seconds from the first request that met trouble to the end of the last."""
    retries: int = 0
    acknowledged: int = 0
    refused: int = 0
    slowest: float = 0.0

    @classmethod
    def of(cls, attempts: list[Attempt]) -> "Seen":
        unknown = [attempt for attempt in attempts if attempt.outcome is Outcome.UNKNOWN]
        outcomes = Counter(attempt.outcome for attempt in attempts)
        return cls(
            troubles=Counter(attempt.describe() for attempt in unknown),
            error_span=max((a.ended_at for a in unknown), default=0.0)
            - min((a.sent_at for a in unknown), default=0.0),
            retries=sum(1 for attempt in attempts if not attempt.request_id.endswith(".0")),
            acknowledged=outcomes[Outcome.ACKNOWLEDGED],
            refused=outcomes[Outcome.REFUSED],
            slowest=max((a.ended_at - a.sent_at for a in attempts), default=0.0),
        )

    def __add__(self, other: "Seen") -> "Seen":
        return Seen(
            self.troubles + other.troubles,
            max(self.error_span, other.error_span),
            self.retries + other.retries,
            self.acknowledged + other.acknowledged,
            self.refused + other.refused,
            max(self.slowest, other.slowest),
        )

    def __str__(self) -> str:
        """`503 database_unavailable x40, timeout x2 over 3.4 s; 30 retries; ...`."""
        parts = []
        if self.troubles:
            shown = ", ".join(f"{label} x{count}" for label, count in self.troubles.most_common())
            parts.append(f"{shown} over {self.error_span:.1f} s")
        parts += [
            f"{self.retries} retries",
            f"{self.acknowledged} ok",
            f"{self.refused} refused",
            f"slowest {self.slowest:.1f} s",
        ]
        return "; ".join(parts)


@dataclass
class FaultResult:
    fault: Fault
    started: float
    ended: float
    """When the injection was over (the server back, the process killed)."""
    writes_back: float | None = None
    recovered: float | None = None
    closed: float = 0.0
    """The end of the fault's window: what clients saw until then counts as the fault's."""
    seen: Seen = field(default_factory=Seen)
    findings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.recovered is not None and not self.findings

    def seconds(self, moment: float | None) -> str:
        return "never" if moment is None else f"{moment - self.started:.1f} s"


def _acknowledged_since(history: History, moment: float) -> bool:
    return any(
        attempt.outcome is Outcome.ACKNOWLEDGED and attempt.sent_at >= moment
        for op in history.operations
        for attempt in op.attempts
    )


async def _log_head(stack: Stack) -> int | None:
    try:
        conn = await stack.connect()
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        head: int | None = await conn.fetchval("SELECT max(position) FROM events")
        return head
    finally:
        await conn.close()


async def _projection_holds(stack: Stack, head: int) -> bool:
    try:
        conn = await stack.connect()
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        return await goals_behind(conn, head) == 0
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    finally:
        await conn.close()


async def observe(
    stack: Stack, history: History, fault: Fault, started: float, ended: float
) -> FaultResult:
    """Waits, within `RECOVERY_SECONDS` of the fault's end, for the stack to recover."""
    result = FaultResult(fault, started, ended)
    within = RECOVERY_SECONDS

    async def writes_back() -> bool:
        return _acknowledged_since(history, ended)

    if await wait_until(writes_back, within):
        result.writes_back = stack.clock()
    head = await _log_head(stack)

    async def recovered() -> bool:
        return (
            head is not None
            and len(api_workers(stack.api)) == API_WORKERS
            and await stack.worker_ready()
            and await _projection_holds(stack, head)
        )

    left = max(0.0, ended + within - stack.clock())
    if result.writes_back is not None and await wait_until(recovered, left):
        result.recovered = stack.clock()
    # What a dead service left behind counts only once it has had its time to go by itself.
    await wait_until(_no_departures_pending(stack), _LEFT_OVER_SECONDS)
    window_end = result.closed = stack.clock()
    attempts = history.attempts_between(started, window_end)
    result.seen = Seen.of(attempts)
    result.findings += _process_findings(stack, fault, started, window_end)
    errors = Counter(a.describe() for a in attempts if a.status is not None and a.status >= 500)
    behind = named(unhandled_errors(stack.directory, stack.wall_started), started, window_end)
    result.findings += [
        f"{count} answers {label}" + (f" (the API logged {behind})" if behind else "")
        for label, count in errors.items()
        if not label.startswith("503")
    ]
    if result.writes_back is None:
        result.findings.append(f"no write acknowledged within {within:.0f} s of the fault's end")
    elif result.recovered is None:
        result.findings.append(f"not recovered within {within:.0f} s: {await _short(stack, head)}")
    return result


async def _short(stack: Stack, head: int | None) -> str:
    """What was still missing when the time to recover ran out."""
    missing = []
    if (workers := len(api_workers(stack.api))) != API_WORKERS:
        missing.append(f"{workers} of {API_WORKERS} API workers")
    if not await stack.worker_ready():
        missing.append("the Dramatiq workers not consuming")
    if head is None:
        missing.append("the database not answering")
    elif not await _projection_holds(stack, head):
        missing.append(f"the projection short of the log's head then, @{head}")
    return ", ".join(missing) or "it came just after the deadline"


def _no_departures_pending(stack: Stack) -> Predicate:
    async def none_pending() -> bool:
        return stack.api.departures_pending() == 0 and stack.worker.departures_pending() == 0

    return none_pending


def _process_findings(stack: Stack, fault: Fault, start: float, end: float) -> list[str]:
    found = []
    for service in (stack.api, stack.worker):
        exits = [exit for exit in service.exits if start <= exit.at <= end]
        allowed = fault.exits.get(service.name, 0)
        found += [
            f"goals {service.name} exited {exit.code} at +{exit.at - start:.1f} s: "
            f"{exit.last_error}"
            for exit in exits[allowed:]
        ]
        found += [
            f"goals {service.name} exited at +{left.at - start:.1f} s and left {len(left.pids)} "
            f"processes it started running (pids {left.pids})"
            for left in service.left_over
            if start <= left.at <= end
        ]
    return found
