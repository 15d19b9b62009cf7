"""Client sessions that check in, adjust, pause and resume goals, and record what came of it.

Each session writes as one person (the therapist, or one client on their own goals), one
request at a time, on goals that other sessions write to as well; half its writes go to one goal,
so that keyed, conditional and plain writes of several sessions meet there at once. A third of
the writes carry an `Idempotency-Key`, a third `If-Match` on the version the session last saw, a
third neither.

After an unknown outcome (a 5xx, a timeout, a broken connection) a session retries as the API's
retry contract says it safely may: a keyed write with the same key and body, a conditional one
with the same `If-Match`, a check-in with the same `check_in_id`; it waits as `Retry-After`
says, or backs off, within a bound of attempts and seconds. A plain adjustment, pause or resume
cannot be retried safely, and is left with its unknown outcome.
"""

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx

from tests.faults.history import Attempt, History, Operation, Outcome, Style
from tests.faults.world import Writer

REQUEST_TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 40
RETRY_FOR_SECONDS = 40.0
_BACKOFF_FIRST, _BACKOFF_MOST, _RETRY_AFTER_MOST = 0.1, 1.0, 2.0
# Between one operation and the next: the sessions pace themselves to leave the machine room.
THINK_SECONDS = 0.01
MAX_OPERATIONS = 1_000_000  # per session: far more than its time allows
_KINDS = ("check_in",) * 7 + ("adjust",) * 2 + ("lifecycle",)
_PRIORITIES = ("high", "medium", "low")
HOT_GOAL_SHARE = 0.5
# The goal's status, as a write refused for the goal's status reveals it.
_STATUS_REFUSED_BECAUSE = {"pause": "paused", "resume": "active", "check_in": "paused"}


@dataclass
class GoalSeen:
    version: int = 1
    status: str = "active"
    priority: str = "high"


@dataclass
class Session:
    number: int
    writer: Writer
    client: httpx.AsyncClient
    history: History
    clock: Callable[[], float]
    rng: random.Random
    seen: dict[UUID, GoalSeen] = field(default_factory=dict)

    def next_operation(self) -> tuple[Operation, str, dict[str, Any] | None]:
        # Half the writes go to one goal, so that writers of every kind meet on it at once.
        hot = self.rng.random() < HOT_GOAL_SHARE
        goal_id = self.writer.goal_ids[0] if hot else self.rng.choice(self.writer.goal_ids)
        seen = self.seen.setdefault(goal_id, GoalSeen())
        kind = self.rng.choice(_KINDS)
        # A goal the session knows to be paused is resumed: check-ins on it would be refused.
        if kind == "lifecycle" or seen.status == "paused":
            kind = "resume" if seen.status == "paused" else "pause"
        style = self.rng.choice(tuple(Style))
        op = Operation(f"op-{uuid.uuid4().hex}", self.number, kind, goal_id, style)
        path = f"/v1/goals/{goal_id}/"
        body: dict[str, Any] | None
        if kind == "check_in":
            op.check_in_id = uuid.uuid4()
            path, body = path + "check-ins", {"amount": 1, "check_in_id": str(op.check_in_id)}
        elif kind == "adjust":
            priority = self.rng.choice([p for p in _PRIORITIES if p != seen.priority])
            body = {"changes": {"priority": priority}, "reason": "fault run"}
            path += "adjustments"
        else:
            path += kind
            body = {"reason": "fault run"} if kind == "pause" else None
        return op, path, body

    def _headers(self, op: Operation, attempt: Attempt, if_match: int) -> dict[str, str]:
        headers = {**self.writer.headers, "X-Request-ID": attempt.request_id}
        if op.style is Style.KEYED:
            headers["Idempotency-Key"] = op.op_id
        elif op.style is Style.CONDITIONAL:
            headers["If-Match"] = f'"{if_match}"'
        return headers

    async def perform(self) -> Operation:
        op, path, body = self.next_operation()
        self.history.add(op)
        if_match = self.seen[op.goal_id].version
        first_sent = self.clock()
        for number in range(MAX_ATTEMPTS):
            attempt = Attempt(f"{op.op_id}.{number}", self.clock())
            op.attempts.append(attempt)
            await self._send(path, body, self._headers(op, attempt, if_match), attempt)
            attempt.ended_at = self.clock()
            self._learn(op, attempt)
            if attempt.outcome is not Outcome.UNKNOWN or not op.retry_safe:
                break
            if self.clock() - first_sent > RETRY_FOR_SECONDS:
                break
            backoff = min(_BACKOFF_FIRST * 2**number, _BACKOFF_MOST)
            if attempt.retry_after is not None:
                backoff = min(attempt.retry_after, _RETRY_AFTER_MOST)
            await asyncio.sleep(backoff)
        return op

    async def _send(
        self, path: str, body: dict[str, Any] | None, headers: dict[str, str], attempt: Attempt
    ) -> None:
        try:
            response = await self.client.post(
                path, json=body, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
            )
        except httpx.TimeoutException:
            attempt.error = "timeout"
            return
        except httpx.ConnectError:
            attempt.error = "connect"
            return
        except httpx.TransportError as error:
            attempt.error = type(error).__name__
            return
        attempt.status = response.status_code
        attempt.replayed = response.headers.get("idempotent-replayed") == "true"
        if retry_after := response.headers.get("retry-after"):
            try:
                attempt.retry_after = float(retry_after)
            except ValueError:
                attempt.retry_after = None
        try:
            answer = response.json()
        except ValueError:
            return  # not JSON: a proxy's or server's own page; the status says enough
        if not isinstance(answer, dict):
            return
        if attempt.outcome is Outcome.ACKNOWLEDGED:
            attempt.version, attempt.position = answer.get("version"), answer.get("position")
            goal = answer.get("goal") or {}
            attempt.goal_status, attempt.goal_priority = goal.get("status"), goal.get("priority")
        else:
            attempt.code = answer.get("code")
            attempt.version = answer.get("current_version")

    def _learn(self, op: Operation, attempt: Attempt) -> None:
        """What the answer says of the goal, for the next conditional write and lifecycle pick."""
        seen = self.seen[op.goal_id]
        if attempt.version is not None:
            seen.version = max(seen.version, attempt.version)
        if attempt.goal_status:
            seen.status = attempt.goal_status
        if attempt.goal_priority:
            seen.priority = attempt.goal_priority
        elif attempt.code == "goal_status_conflict":
            seen.status = _STATUS_REFUSED_BECAUSE.get(op.kind, seen.status)


class Load:
    """Sessions writing concurrently until told to stop, or until their time is up."""

    def __init__(
        self,
        base_url: str,
        writers: list[Writer],
        history: History,
        clock: Callable[[], float],
        seed: int,
    ) -> None:
        self._base_url = base_url
        self._writers = writers
        self._history = history
        self._clock = clock
        self._seed = seed
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[int]] = []

    def start(self, until: float) -> None:
        for number, writer in enumerate(self._writers):
            self._tasks.append(asyncio.create_task(self._session(number, writer, until)))

    async def _session(self, number: int, writer: Writer, until: float) -> int:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=self._base_url, limits=limits) as client:
            session = Session(
                number,
                writer,
                client,
                self._history,
                self._clock,
                random.Random(f"{self._seed}-{number}"),
            )
            for done in range(MAX_OPERATIONS):
                if self._stop.is_set() or self._clock() >= until:
                    return done
                await session.perform()
                await asyncio.sleep(THINK_SECONDS)
            return MAX_OPERATIONS

    async def stop(self) -> int:
        """Stops the sessions once their operations under way end; how many they made."""
        self._stop.set()
        done = await asyncio.gather(*self._tasks, return_exceptions=True)
        failures = [result for result in done if isinstance(result, BaseException)]
        if failures:
            raise failures[0]
        return sum(result for result in done if isinstance(result, int))
