"""What disables an endpoint (a 410, five days of failures), what is recorded meanwhile, and
which events reach which endpoints."""

import uuid

import asyncpg
import pytest

from infra.webhooks import endpoints, history
from infra.webhooks.endpoints import NewEndpoint
from infra.webhooks.sender import Sender
from infra.webhooks.signing import new_secret
from tests.integration.webhooks.conftest import (
    add_endpoint,
    fan_out,
    goals_with_events,
    send_until,
    states,
)
from tests.integration.webhooks.receiver import Answer, Receiver, receiving

pytestmark = pytest.mark.usefixtures("clinic_id")


async def test_410_disables_the_endpoint_and_later_events_wait_for_a_replay(
    pool: asyncpg.Pool, sender: Sender
) -> None:
    gone = True

    def plan(receiver: Receiver, body: bytes) -> Answer:
        return Answer(410 if gone else 200)

    first, second = await goals_with_events(pool, 2, 2)
    with receiving(plan) as receiver:
        endpoint_id, secret = await add_endpoint(pool, receiver.url)
        await fan_out(pool, [first])
        await sender.send_endpoint(endpoint_id)
        endpoint = await pool.fetchrow(
            "SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = $1", endpoint_id
        )
        assert endpoint is not None
        assert (endpoint["enabled"], endpoint["disabled_reason"]) == (False, "gone")
        await fan_out(pool, [second])
        assert await states(pool, endpoint_id) == {"held": 4}
        assert await sender.send_endpoint(endpoint_id) == 0
        sent_while_disabled = len(receiver.received)

        gone = False
        clinic_id = await pool.fetchval("SELECT clinic_id FROM webhook_endpoints")
        assert await endpoints.enable(pool, clinic_id, endpoint_id) is not None  # type: ignore[arg-type]
        assert await history.replay(pool, endpoint_id, 1, None) == 4  # type: ignore[arg-type]
        assert await send_until(sender, endpoint_id, lambda: len(receiver.received) >= 6)

    assert sent_while_disabled == 2  # both events of the first goal, at once, both answered 410
    sequences = sorted(
        request.verified(secret)["data"]["sequence"] for request in receiver.received[2:]
    )
    assert sequences == [1, 2, 3, 4]
    assert await states(pool, endpoint_id) == {"delivered": 4}


async def test_failing_for_five_days_warns_a_day_before_then_disables(
    pool: asyncpg.Pool, sender: Sender
) -> None:
    def plan(receiver: Receiver, body: bytes) -> Answer:
        return Answer(503)

    goal_ids = await goals_with_events(pool, 3, 1)
    with receiving(plan) as receiver:
        endpoint_id, _ = await add_endpoint(pool, receiver.url)
        await fan_out(pool, goal_ids[:1])
        await sender.send_endpoint(endpoint_id)
        await pool.execute(
            "UPDATE webhook_endpoints SET failing_since = now() - interval '4 days 1 hour'"
        )
        await fan_out(pool, goal_ids[1:2])
        await sender.send_endpoint(endpoint_id)
        warned = await pool.fetchrow("SELECT enabled, warned_at FROM webhook_endpoints")
        await pool.execute("UPDATE webhook_endpoints SET failing_since = now() - interval '5 days'")
        await fan_out(pool, goal_ids[2:])
        await sender.send_endpoint(endpoint_id)

    assert warned is not None
    assert warned["enabled"]
    assert warned["warned_at"] is not None
    endpoint = await pool.fetchrow("SELECT enabled, disabled_reason FROM webhook_endpoints")
    assert endpoint is not None
    assert (endpoint["enabled"], endpoint["disabled_reason"]) == (False, "failing")
    assert set(await states(pool, endpoint_id)) == {"held"}


async def test_a_success_ends_the_failing_streak(pool: asyncpg.Pool, sender: Sender) -> None:
    goal_ids = await goals_with_events(pool, 1, 1)
    with receiving() as receiver:
        endpoint_id, _ = await add_endpoint(pool, receiver.url)
        await pool.execute(
            "UPDATE webhook_endpoints SET failing_since = now() - interval '4 days 12 hours', "
            "warned_at = now()"
        )
        await fan_out(pool, goal_ids)
        assert await send_until(sender, endpoint_id, lambda: len(receiver.received) >= 1)
    endpoint = await pool.fetchrow("SELECT failing_since, warned_at FROM webhook_endpoints")
    assert endpoint is not None
    assert (endpoint["failing_since"], endpoint["warned_at"]) == (None, None)


async def test_events_go_to_their_own_clinic_and_subscribed_types_only(
    pool: asyncpg.Pool,
) -> None:
    other_clinic = uuid.uuid4()
    await pool.execute("INSERT INTO clinics (id, name) VALUES ($1, 'elsewhere')", other_clinic)
    set_only, _ = await add_endpoint(pool, "https://hooks.example.org/a", ["goal.set"])
    check_ins, _ = await add_endpoint(
        pool, "https://hooks.example.org/b", ["goal.progress_recorded"]
    )
    deleted, _ = await add_endpoint(pool, "https://hooks.example.org/c")
    async with pool.acquire() as conn:
        elsewhere = await endpoints.create(
            conn,
            NewEndpoint(
                uuid.uuid4(),
                other_clinic,
                "https://x.example.org/",
                ["*"],
                "id-only",
                "",
                new_secret(),
            ),
        )
        clinic_id = await conn.fetchval(
            "SELECT clinic_id FROM webhook_endpoints WHERE id = $1", deleted
        )
        await endpoints.delete(conn, clinic_id, deleted)
    goal_ids = await goals_with_events(pool, 2, 3)
    await fan_out(pool, goal_ids)

    assert await states(pool, set_only) == {"pending": 2}
    assert await states(pool, check_ins) == {"pending": 4}
    assert await states(pool, deleted) == {}
    assert await states(pool, elsewhere.id) == {}
    client_ids = await pool.fetch("SELECT DISTINCT client_id FROM webhook_deliveries")
    assert len(client_ids) == 2  # each goal's client, for the accounting of disclosures
    disclosed = await history.disclosures_of_client(pool, clinic_id, client_ids[0]["client_id"])  # type: ignore[arg-type]
    assert len(disclosed) == 3
    # Fanning the same goals out again records nothing twice.
    await fan_out(pool, goal_ids)
    assert await pool.fetchval("SELECT count(*) FROM webhook_deliveries") == 6
