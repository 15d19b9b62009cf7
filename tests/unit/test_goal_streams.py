"""Goal streams are named in one place: the name a goal's stream gets is the one read back."""

import uuid

from infra.goals.streams import goal_of_stream, goal_stream


def test_a_goals_stream_names_the_goal() -> None:
    goal_id = uuid.uuid4()
    assert goal_of_stream(goal_stream(goal_id)) == goal_id


def test_other_streams_name_no_goal() -> None:
    assert goal_of_stream(f"user-{uuid.uuid4()}") is None
