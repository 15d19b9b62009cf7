"""Dramatiq actors. They take ids, read what they need from PostgreSQL, and are safe to run twice.

`infra.broker` is imported first so that these actors bind to the project's broker.

One actor per consumer in the registry, each on its consumer's queue, so that every message is
one consumer's work on one goal: a consumer that is slow, or fails and is retried, holds back
no other consumer's messages, and its retries and dead letters are its own.
"""

from uuid import UUID

import dramatiq
import structlog

from infra import broker
from infra.db.outages import unreachable
from infra.projections.consumer import Consumer
from infra.projections.registry import consumers

log = structlog.get_logger(__name__)


def _actor_for(consumer: Consumer) -> dramatiq.Actor[[str], None]:
    async def apply(goal_id: str) -> None:
        try:
            timeout = broker.database.settings.database_acquire_timeout_seconds
            async with broker.pool().acquire(timeout=timeout) as conn:
                progressed = await consumer.apply(conn, UUID(goal_id))
        except Exception as error:
            if not unreachable(error):
                raise
            # Said once per outage, not with a traceback per message; the message is tried
            # again later, and once its retries run out the reconciler sends its goal again.
            broker.outage().failed(error)
            raise dramatiq.Retry from error
        broker.outage().recovered()
        log.info(
            "goal_projected",
            consumer=consumer.name,
            goal_id=goal_id,
            applied=progressed.applied,
            stalled=progressed.stalled,
        )

    # Consumers' work is quick and idempotent: a few fast retries, then the reconciler's turn.
    return dramatiq.actor(
        actor_name=f"apply_{consumer.name}",
        queue_name=consumer.queue_name,
        time_limit=60_000,
        max_retries=5,
        min_backoff=200,
        max_backoff=10_000,
    )(apply)


ACTORS = {consumer.name: _actor_for(consumer) for consumer in consumers()}

# Declared here so that Dramatiq's workers, which import this module, run it too.
from services.worker.webhooks import send_webhooks  # noqa: E402

__all__ = ["ACTORS", "send_webhooks"]
