"""Webhooks through the worker service itself: the relay, the deliveries consumers, the
scheduler and the senders, with `kill -9` in the middle of a delivery, and the nudges the
service sends."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from infra.webhooks import endpoints
from infra.webhooks.endpoints import NewEndpoint
from infra.webhooks.signing import new_secret
from tests.integration.nudges.world import people, set_goal, terms
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


async def test_nudges_the_service_sends_reach_the_endpoints_subscribed_to_them(
    worker_services: WorkerServices, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        world = await people(conn, client_zone="UTC")
        # A reminder from midnight and no quiet hours: whatever the hour, it is due now.
        await conn.execute(
            "INSERT INTO notification_preferences (user_id, quiet_start, quiet_end, "
            "reminder_time) VALUES ($1, '00:00', '00:00', '00:00')",
            world.client.id,
        )
        now = datetime.now(UTC)
        statement = "Take the evening medication"
        start, due = now.date() - timedelta(days=1), now.date() + timedelta(days=20)
        goal_id = await set_goal(
            conn, world, terms(statement, start=start, due=due, zone="UTC"), now
        )
    with receiving() as receiver:
        secret = new_secret()
        new = NewEndpoint(
            uuid.uuid4(), world.clinic_id, receiver.url, ["nudge.sent"], "full", "", secret
        )
        async with pool.acquire() as conn:
            endpoint = await endpoints.create(conn, new)
        service = worker_services.start(**WEBHOOK_SETTINGS, NUDGE_SCAN_SECONDS="0.2")
        assert await wait_for_service(service, pool, BOOT_SECONDS)

        async def delivered() -> bool:
            return await states(pool, endpoint.id) == {"delivered": 1}

        assert await wait_until(delivered, BOOT_SECONDS)
        (request,) = receiver.received

    body = request.verified(secret)
    assert body["type"] == "nudge.sent"
    assert body["data"]["goal_id"] == str(goal_id)
    assert body["data"]["nudge"] == {
        "rule": "check_in_reminder",
        "goal_id": str(goal_id),
        "recipient_role": "client",
        "channels": ["in_app"],
    }
    assert statement.lower() not in request.body.decode().lower()
