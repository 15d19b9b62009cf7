from uuid import UUID


def goal_stream(goal_id: UUID) -> str:
    return f"goal-{goal_id}"
