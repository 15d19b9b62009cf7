"""The history of a run: every write the clients attempted, each attempt, and what came of it.

An operation is one write a client meant to make (a check-in, an adjustment, a pause, a
resume); it is sent once, and again as the retry contract allows after an unknown outcome. Each
attempt carries its own `X-Request-ID`, which the API stores as the events' correlation id, so
the log tells which attempt, if any, wrote.

Outcomes of an attempt: acknowledged (2xx, with the version and position it answered),
refused (4xx), or unknown (5xx, a timeout, a broken connection): the write may or may not have
happened. The operation's outcome is its last attempt's, with one exception: a conditional
write (If-Match) retried after an unknown outcome and then refused cannot tell "already done"
from "someone else wrote first", so it stays unknown.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID


class Outcome(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    REFUSED = "refused"
    UNKNOWN = "unknown"


class Style(StrEnum):
    """How a write is made safe to retry, if it is."""

    PLAIN = "plain"
    """No header; a check-in still carries its own `check_in_id`."""
    KEYED = "keyed"
    """`Idempotency-Key`: a retry returns the first reply and writes nothing."""
    CONDITIONAL = "conditional"
    """`If-Match` on the version the client last saw."""


@dataclass
class Attempt:
    request_id: str
    sent_at: float
    """Seconds since the run started, as are all times here."""
    ended_at: float = 0.0
    status: int | None = None
    code: str | None = None
    """The problem's `code`, for an error answer."""
    error: str | None = None
    """What broke, when no answer came: `timeout`, `connect`, `read`..."""
    version: int | None = None
    position: int | None = None
    replayed: bool = False
    goal_status: str | None = None
    goal_priority: str | None = None
    """The goal's status and priority as an acknowledged write left it."""
    retry_after: float | None = None

    @property
    def outcome(self) -> Outcome:
        if self.status is not None and 200 <= self.status < 300:
            return Outcome.ACKNOWLEDGED
        if self.status is not None and 400 <= self.status < 500:
            return Outcome.REFUSED
        return Outcome.UNKNOWN

    def describe(self) -> str:
        """`200 v12 @3456`, `422 goal_not_active`, `503 database_unavailable`, `timeout`."""
        if self.status is None:
            return self.error or "no answer"
        if self.outcome is Outcome.ACKNOWLEDGED:
            replayed = " replayed" if self.replayed else ""
            return f"{self.status} v{self.version} @{self.position}{replayed}"
        return f"{self.status} {self.code or ''}".strip()


@dataclass
class Operation:
    op_id: str
    session: int
    kind: str
    """`check_in`, `adjust`, `pause` or `resume`."""
    goal_id: UUID
    style: Style
    check_in_id: UUID | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def retry_safe(self) -> bool:
        """Whether the retry contract lets a client send it again after an unknown outcome."""
        return self.style is not Style.PLAIN or self.kind == "check_in"

    @property
    def outcome(self) -> Outcome:
        last = self.attempts[-1].outcome
        earlier_unknown = any(a.outcome is Outcome.UNKNOWN for a in self.attempts[:-1])
        if last is Outcome.REFUSED and earlier_unknown and self.style is Style.CONDITIONAL:
            return Outcome.UNKNOWN
        return last

    @property
    def acknowledged(self) -> Attempt | None:
        last = self.attempts[-1]
        return last if self.outcome is Outcome.ACKNOWLEDGED else None

    def request_ids(self) -> set[str]:
        return {attempt.request_id for attempt in self.attempts}

    def describe(self) -> str:
        answers = ", ".join(attempt.describe() for attempt in self.attempts)
        return f"{self.kind} ({self.style}) {self.op_id} on goal {self.goal_id}: {answers}"


@dataclass
class History:
    operations: list[Operation] = field(default_factory=list)

    def add(self, operation: Operation) -> Operation:
        self.operations.append(operation)
        return operation

    def attempts_between(self, start: float, end: float) -> list[Attempt]:
        """Attempts that ended within [start, end]."""
        return [
            attempt
            for operation in self.operations
            for attempt in operation.attempts
            if start <= attempt.ended_at <= end and attempt.ended_at
        ]

    def counts(self) -> dict[Outcome, int]:
        counted = dict.fromkeys(Outcome, 0)
        for operation in self.operations:
            if operation.attempts:
                counted[operation.outcome] += 1
        return counted

    def refusals(self) -> dict[str, int]:
        """Refused operations by the problem's code: `version_conflict: 120`."""
        counted: dict[str, int] = {}
        for operation in self.operations:
            if operation.attempts and operation.outcome is Outcome.REFUSED:
                code = operation.attempts[-1].code or str(operation.attempts[-1].status)
                counted[code] = counted.get(code, 0) + 1
        return dict(sorted(counted.items(), key=lambda item: -item[1]))
