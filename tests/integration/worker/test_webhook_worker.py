"""Webhooks through the worker service itself: the relay, the deliveries consumer, the
scheduler and the senders, with `kill -9` in the middle of a delivery."""

import threading

import asyncpg

from tests.integration.projections.goals import CLINIC
from tests.integration.webhooks.conftest import add_endpoint, goals_with_events, states
from tests.integration.webhooks.receiver import Answer, Receiver, receiving
from tests.integration.worker.launcher import WorkerServices
from tests.integration.worker.projection import wait_for_service, wait_until

BOOT_SECONDS = 15
EVENTS = 20
WEBHOOK_SETTINGS = {
    "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "WEBHOOK_ALLOW_HTTP": "true",
    "WEBHOOK_RETRY_DELAYS": "0.1,0.1,0.1,0.1,0.1",
    # A killed sender's claims run out soon; the hung requests outlast the kill.
    "WEBHOOK_CLAIM_SECONDS": "3",
    "WEBHOOK_TIMEOUT_SECONDS": "20",
    "WEBHOOK_SCHEDULER_SECONDS": "0.2",
}


async def test_a_worker_killed_mid_delivery_loses_nothing(
    worker_services: WorkerServices, pool: asyncpg.Pool
) -> None:
    holding = threading.Event()
    holding.set()
    released = threading.Event()

    def plan(receiver: Receiver, body: bytes) -> Answer:
        if holding.is_set():
            released.wait(30)
        return Answer(200)

    await pool.execute("INSERT INTO clinics (id, name) VALUES ($1, 'webhooks')", CLINIC)
    await goals_with_events(pool, EVENTS, 1)
    with receiving(plan) as receiver:
        endpoint_id, secret = await add_endpoint(pool, receiver.url)
        first = worker_services.start(**WEBHOOK_SETTINGS)
        assert await wait_for_service(first, pool, BOOT_SECONDS)

        async def in_flight() -> bool:
            return len(receiver.received) > 0

        assert await wait_until(in_flight, BOOT_SECONDS, interval=0.05)
        first.kill()
        cut_short = set(receiver.ids())
        holding.clear()
        released.set()
        second = worker_services.start(**WEBHOOK_SETTINGS)
        assert await wait_for_service(second, pool, BOOT_SECONDS)

        async def all_delivered() -> bool:
            return await states(pool, endpoint_id) == {"delivered": EVENTS}

        assert await wait_until(all_delivered, 20)
        received = list(receiver.received)

    sequences = {request.verified(secret)["data"]["sequence"] for request in received}
    assert sequences == set(range(1, EVENTS + 1))
    # What was cut short came again, under the same webhook-id.
    again = [request.webhook_id for request in received if request.webhook_id in cut_short]
    assert cut_short
    assert all(again.count(webhook_id) >= 2 for webhook_id in cut_short)
