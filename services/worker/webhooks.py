"""Webhook sending in the worker service: the scheduler (a loop beside the relay) finds the
endpoints with deliveries due in PostgreSQL and sends one message per endpoint; the
`send_webhooks` actor sends that endpoint's due deliveries. Long waits between retries live in
PostgreSQL (`next_attempt_at`), never in Redis; a lost message costs one scheduler pass.
"""

import asyncio
import contextlib
from uuid import UUID

import dramatiq
import redis
import structlog

from infra import broker
from infra.config import Settings
from infra.db.outages import unreachable
from infra.db.pool import close_pool, open_pool
from infra.webhooks.claims import endpoints_due
from infra.webhooks.sender import Sender

log = structlog.get_logger(__name__)

ENDPOINTS_PER_PASS = 1000


class _Senders:
    """The worker process's one sender, made on first use on its event loop."""

    def __init__(self) -> None:
        self.sender: Sender | None = None

    def get(self) -> Sender:
        if self.sender is None:
            self.sender = Sender(broker.pool(), broker.database.settings)
        return self.sender


_senders = _Senders()


async def _send(endpoint_id: str) -> None:
    try:
        sent = await _senders.get().send_slice(UUID(endpoint_id))
    except Exception as error:
        if not unreachable(error):
            raise
        broker.outage().failed(error)
        return  # the scheduler hands the endpoint out again once its lease ends
    broker.outage().recovered()
    if sent.more_due:
        # The next slice at once: waiting for the scheduler's pass would leave the endpoint
        # idle meanwhile. A message too many finds the endpoint taken, or nothing due; one
        # that Redis did not take is the scheduler's to send.
        with contextlib.suppress(redis.RedisError):
            await asyncio.to_thread(send_webhooks.send, endpoint_id)
    if sent.attempted:
        log.info("webhook_endpoint_sent", endpoint_id=endpoint_id, sent=sent.attempted)


send_webhooks = dramatiq.actor(
    actor_name="send_webhooks",
    queue_name="webhooks",
    time_limit=300_000,
    max_retries=0,
)(_send)


async def run_webhook_scheduler(settings: Settings, stop: asyncio.Event) -> None:
    """Hands out the endpoints with deliveries due, every `WEBHOOK_SCHEDULER_SECONDS`. While
    PostgreSQL or Redis is away it waits for them quietly: the relay, in the same process, says
    so once per outage."""
    pool = await open_pool(settings, min_size=1, max_size=1)
    try:
        while not stop.is_set():
            try:
                async with pool.acquire(timeout=settings.database_acquire_timeout_seconds) as conn:
                    due = await endpoints_due(conn, ENDPOINTS_PER_PASS)
                await asyncio.to_thread(_hand_out, due)
            except redis.RedisError:
                pass
            except Exception as error:
                if not unreachable(error):
                    raise
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.webhook_scheduler_seconds)
    finally:
        await close_pool(pool, settings.database_command_timeout_seconds)


def _hand_out(endpoint_ids: list[UUID]) -> None:
    for endpoint_id in endpoint_ids:
        send_webhooks.send(str(endpoint_id))
