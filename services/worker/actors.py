"""Dramatiq actors. They take ids, read what they need from PostgreSQL, and are safe to run twice.

`infra.broker` is imported first so that these actors bind to the project's broker.
"""

from uuid import UUID

import dramatiq
import structlog

from infra import broker
from infra.db.outages import unreachable
from infra.projections import goal_summaries

log = structlog.get_logger(__name__)


# Projection work is quick and idempotent: a few fast retries, then the reconciler's turn.
@dramatiq.actor(
    queue_name="projections", time_limit=60_000, max_retries=5, min_backoff=200, max_backoff=10_000
)
async def project_goal(goal_id: str) -> None:
    try:
        timeout = broker.database.settings.database_acquire_timeout_seconds
        async with broker.pool().acquire(timeout=timeout) as conn:
            progressed = await goal_summaries.project_goal(conn, UUID(goal_id))
    except Exception as error:
        if not unreachable(error):
            raise
        # Said once per outage, not with a traceback per message; the message is tried again
        # later, and once its retries run out the reconciler sends its goal again.
        broker.outage().failed(error)
        raise dramatiq.Retry from error
    broker.outage().recovered()
    log.info(
        "goal_projected",
        goal_id=goal_id,
        applied=progressed.applied,
        stalled=progressed.stalled,
    )
