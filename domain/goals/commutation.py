"""When a check-in decided on an older fold of its goal is still the right decision.

Deciding a check-in reads the goal's status and terms, nothing else; that its id is new in the goal
is held by the log's index on check-in ids (migration 0008), which no fold keeps. Another check-in
changes neither status nor terms, so a check-in decided on the goal at version v, then appended
after other check-ins, is the event `decide` would give on the newer goal, unless one of them has
its own id: then the log holds it already, and the check-in is refused. Check-ins written at
once, from any process, therefore need not conflict.
"""

from collections.abc import Sequence

from domain.goals.commands import RecordProgress
from domain.goals.events import GoalEvent, ProgressRecorded

LEAVES_CHECK_IN_DECIDED = ProgressRecorded
"""The only kind of event that may come between a check-in's decision and its append."""


def still_decided(command: RecordProgress, since: Sequence[GoalEvent]) -> bool:
    """Whether `decide(command, fold(since, state)) == decide(command, state)` for any state."""
    return all(
        isinstance(event, LEAVES_CHECK_IN_DECIDED) and event.check_in_id != command.check_in_id
        for event in since
    )
