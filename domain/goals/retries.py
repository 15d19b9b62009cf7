"""A check-in sent again: most often a client's retry of a request whose answer it never got
(a timeout, a lost connection, a 503 after the commit), which must not count twice.

The check-in's id is the client's idempotency key: a check-in whose id the goal already holds
is the same check-in when it says the same thing, and is then answered with the first result;
an id that names a different check-in is the client's mistake.
"""

from uuid import UUID

from domain.goals.commands import RecordProgress
from domain.goals.events import ProgressRecorded


def same_check_in(
    recorded: ProgressRecorded,
    recorded_by: UUID | None,
    command: RecordProgress,
    *,
    names_its_moment: bool,
) -> bool:
    """Whether `command` asks for the check-in that `recorded` holds: by the same person, of the
    same amount, with the same note, and at the same moment if the request named one (a request
    that leaves the moment out takes the first request's, whenever the retry comes)."""
    return (
        recorded.goal_id == command.goal_id
        and recorded.check_in_id == command.check_in_id
        and recorded_by == command.actor.user_id
        and recorded.amount == command.amount
        and recorded.note == command.note
        and (not names_its_moment or recorded.occurred_at == command.occurred_at)
    )
