"""Dramatiq actors. They take ids, read what they need from PostgreSQL, and are safe to run twice.

`infra.broker` is imported first so that these actors bind to the project's broker.
"""

from uuid import UUID

import dramatiq
import structlog

from infra import broker
from infra.projections import goal_summaries

log = structlog.get_logger(__name__)


# Projection work is quick and idempotent: a few fast retries, then the reconciler's turn.
@dramatiq.actor(
    queue_name="projections", time_limit=60_000, max_retries=5, min_backoff=200, max_backoff=10_000
)
async def project_goal(goal_id: str) -> None:
    async with broker.pool().acquire() as conn:
        progressed = await goal_summaries.project_goal(conn, UUID(goal_id))
    log.info(
        "goal_projected",
        goal_id=goal_id,
        applied=progressed.applied,
        stalled=progressed.stalled,
    )
