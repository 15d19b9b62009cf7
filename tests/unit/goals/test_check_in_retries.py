from datetime import timedelta
from uuid import uuid4

import msgspec
import pytest

from domain.goals.events import ProgressRecorded
from domain.goals.retries import same_check_in
from tests.unit.goals.builders import (
    CHECK_IN_AT,
    CHECK_IN_ID,
    GOAL_ID,
    record_progress,
)

RECORDED = ProgressRecorded(GOAL_ID, CHECK_IN_ID, 1.0, CHECK_IN_AT, "walked")


def _sent_again(**changes: object) -> bool:
    command = record_progress(amount=1.0, note="walked")
    recorded_by = command.actor.user_id
    names_its_moment = bool(changes.pop("names_its_moment", True))
    if "recorded_by" in changes:
        recorded_by = changes.pop("recorded_by")  # type: ignore[assignment]
    command = msgspec.structs.replace(command, **changes)
    return same_check_in(RECORDED, recorded_by, command, names_its_moment=names_its_moment)


def test_the_same_check_in_sent_again_is_the_same() -> None:
    assert _sent_again()


def test_a_retry_that_leaves_the_moment_out_takes_the_first_ones() -> None:
    assert _sent_again(occurred_at=CHECK_IN_AT + timedelta(hours=1), names_its_moment=False)


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": 2.0},
        {"note": None},
        {"note": "ran"},
        {"occurred_at": CHECK_IN_AT + timedelta(hours=1)},
        {"recorded_by": uuid4()},
        {"check_in_id": uuid4()},
    ],
    ids=["amount", "no note", "other note", "other moment", "other person", "other id"],
)
def test_a_check_in_id_sent_with_anything_else_is_another_check_in(
    changes: dict[str, object],
) -> None:
    assert not _sent_again(**changes)
