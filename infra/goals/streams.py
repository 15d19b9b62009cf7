"""How goals are named in the log: each goal's events are the stream `goal-<goal id>`.

The one place that knows the prefix, in Python and in SQL."""

from uuid import UUID

_PREFIX = "goal-"


def goal_stream(goal_id: UUID) -> str:
    return f"{_PREFIX}{goal_id}"


def goal_of_stream(stream_id: str) -> UUID | None:
    """The goal whose stream this is; None for any other stream."""
    if not stream_id.startswith(_PREFIX):
        return None
    return UUID(stream_id.removeprefix(_PREFIX))


def is_goal_stream_sql(stream_id: str) -> str:
    """A SQL condition: the stream id `stream_id` (an expression) names a goal's stream."""
    return f"{stream_id} LIKE '{_PREFIX}%'"


def goal_id_sql(stream_id: str) -> str:
    """A SQL expression: the goal id in the goal stream id `stream_id` (an expression)."""
    return f"substr({stream_id}, {len(_PREFIX) + 1})::uuid"


def goal_stream_sql(goal_id: str) -> str:
    """A SQL expression: the stream id of the goal `goal_id` (an expression)."""
    return f"'{_PREFIX}' || {goal_id}::text"
