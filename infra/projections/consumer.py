"""What a consumer of the log is: the one declaration the relay, the workers, the reconciler,
the lag metrics, readiness and `goals projections rebuild` all read (see registry.py).

A consumer folds each goal's stream in version order from the version it has stored, and stores
the new version in the same transaction as its effect; the feed only tells it which goals moved
(docs/event-log.md). Its progress, as SQL, is all the generic machinery needs to find the goals it
is behind on and how far.
"""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

import msgspec

from infra.db.connection import Connection

Progress = Callable[[int, int], None]
"""Told (done, total) as a rebuild goes."""


class Progressed(msgspec.Struct, frozen=True):
    applied: int
    stalled: bool = False


class StalledGoal(msgspec.Struct, frozen=True):
    """A goal whose event at `version` could not be applied; the consumer stops before it."""

    goal_id: UUID
    version: int
    error: str


class Rebuilt(msgspec.Struct, frozen=True):
    goals: int
    stalled: list[StalledGoal]


ApplyGoal = Callable[[Connection, UUID], Awaitable[Progressed]]
Rebuild = Callable[[Connection, Progress], Awaitable[Rebuilt]]

_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Consumer:
    name: str
    """Stable: it names the consumer's messages, metrics and recorded version."""
    version: int
    """Raise it when the consumer's code changes what it stores: it is then rebuilt."""
    tables: tuple[str, ...]
    """The tables it owns, which nothing else writes."""
    apply: ApplyGoal
    """Folds a goal's events after the version it has stored; safe to run twice or at once."""
    progress: str
    """SQL relation with one row per goal it has folded: `goal_id`, `version` (the last applied),
    `stalled_at_version` (set when an event could not be applied)."""
    dead_letters: str
    """SQL relation with one row per event it could not apply, with a `goal_id` column."""
    dead_letter_table: str
    """Where an operator finds those events."""
    rebuild: Rebuild | None = None
    """Replays the whole log into its tables, as `goals_projections`; None if it cannot be."""
    queue: str = ""
    """The Dramatiq queue of its messages; its name unless said otherwise."""

    def __post_init__(self) -> None:
        # The name goes into SQL and metric labels as it is.
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"a consumer's name is lower-case letters, digits and _: {self.name}")

    @property
    def queue_name(self) -> str:
        return self.queue or self.name
