"""Every check-in of a goal, from its events: what a client's record lists (the folded goal keeps
only its latest few), those corrected marked entered in error."""

from collections.abc import Iterable

import msgspec

from domain.goals.events import CorrectionRecorded, GoalEvent, ProgressRecorded
from domain.goals.view import CheckIn


def all_check_ins(events: Iterable[GoalEvent]) -> list[CheckIn]:
    """The goal's check-ins in the order they were recorded."""
    recorded: dict[object, CheckIn] = {}
    for event in events:
        match event:
            case ProgressRecorded(check_in_id=check_in_id, amount=amount, occurred_at=at):
                recorded[check_in_id] = CheckIn(check_in_id, amount, at, event.note)
            case CorrectionRecorded(scope="check_in", check_in_id=check_in_id) if (
                check_in_id in recorded
            ):
                marked = msgspec.structs.replace(recorded[check_in_id], entered_in_error=True)
                recorded[check_in_id] = marked
    return list(recorded.values())
