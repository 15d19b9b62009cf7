"""Deliveries to a real receiver on loopback, verified with the reference `standardwebhooks`."""

import asyncio
import time
from pathlib import Path

import asyncpg
import msgspec
import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from infra.webhooks import history
from infra.webhooks.sender import Sender
from tests.fhir_validation import validate_fhir
from tests.integration.projections.goals import goal_with_check_ins
from tests.integration.webhooks.conftest import (
    add_endpoint,
    fan_out,
    goals_with_events,
    send_until,
    states,
    webhook_settings,
)
from tests.integration.webhooks.receiver import Answer, Receiver, receiving, receiving_elsewhere

pytestmark = pytest.mark.usefixtures("clinic_id")


async def test_a_burst_of_a_thousand_events_all_arrive_signed_and_in_sequence(
    pool: asyncpg.Pool, sender: Sender, tmp_path: Path
) -> None:
    goal_ids = await goals_with_events(pool, 10, 100)
    with receiving_elsewhere(tmp_path) as receiver:
        endpoint_id, secret = await add_endpoint(pool, receiver.url)
        await fan_out(pool, goal_ids)
        assert await send_until(sender, endpoint_id, lambda: len(receiver.received) >= 1000)
        received = receiver.received

    assert len(received) == 1000
    bodies = [request.verified(secret) for request in received]
    assert sorted(body["data"]["sequence"] for body in bodies) == list(range(1, 1001))
    assert len({request.webhook_id for request in received}) == 1000
    assert {body["type"] for body in bodies} == {"goal.set", "goal.progress_recorded"}
    assert await states(pool, endpoint_id) == {"delivered": 1000}
    # id-only: where the event stands, never its fields.
    assert "event" not in bodies[0]["data"]


async def test_three_server_errors_then_success_make_four_attempts(
    pool: asyncpg.Pool, sender: Sender
) -> None:
    def plan(receiver: Receiver, body: bytes) -> Answer:
        return Answer(500) if len(receiver.received) <= 3 else Answer(200)

    async with pool.acquire() as conn:
        goal_id = await goal_with_check_ins(conn, 0)
    with receiving(plan) as receiver:
        endpoint_id, secret = await add_endpoint(pool, receiver.url, ["goal.set"])
        await fan_out(pool, [goal_id])
        assert await send_until(sender, endpoint_id, lambda: len(receiver.received) >= 4)
        await asyncio.sleep(0.1)

    assert len(receiver.received) == 4
    assert len(set(receiver.ids())) == 1  # the same webhook-id at every attempt
    for request in receiver.received:
        request.verified(secret)
    found = await history.delivery(pool, await _clinic(pool), _uuid(receiver.ids()[0]))  # type: ignore[arg-type]
    assert found is not None
    delivery, attempts = found
    assert (delivery.state, delivery.attempt_count) == ("delivered", 4)
    assert [attempt.status_code for attempt in attempts] == [500, 500, 500, 200]
    assert attempts[-1].response_body == "ok"


async def test_a_receiver_down_during_a_burst_gets_all_of_it_once_back(
    pool: asyncpg.Pool, database_url: str
) -> None:
    # Each delivery is tried once while the receiver is down, and again a second later.
    sender = Sender(pool, webhook_settings(database_url, webhook_retry_delays="1,1,1"))
    goal_ids = await goals_with_events(pool, 5, 20)
    with receiving() as first:
        url = first.url
    # Nothing listens on that port now.
    endpoint_id, secret = await add_endpoint(pool, url)
    await fan_out(pool, goal_ids)

    async def every_one_failed() -> bool:
        tried = "SELECT count(*) FROM webhook_deliveries WHERE attempt_count > 0"
        return await pool.fetchval(tried) == 100

    while not await every_one_failed():
        await sender.send_endpoint(endpoint_id)
    failed = await pool.fetchval(
        "SELECT count(*) FROM webhook_attempts WHERE error IS NOT NULL AND status_code IS NULL"
    )
    assert failed >= 100
    assert "delivered" not in await states(pool, endpoint_id)

    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with receiving(port=port) as back:
        assert await send_until(sender, endpoint_id, lambda: len(set(back.ids())) >= 100)
    assert await states(pool, endpoint_id) == {"delivered": 100}
    sequences = {
        back_request.verified(secret)["data"]["sequence"] for back_request in back.received
    }
    assert sequences == set(range(1, 101))


async def test_a_hung_receiver_times_out_and_the_delivery_waits_for_its_retry(
    pool: asyncpg.Pool, database_url: str
) -> None:
    def plan(receiver: Receiver, body: bytes) -> Answer:
        return Answer(200, hang_seconds=5)

    hurried = Sender(
        pool, webhook_settings(database_url, webhook_timeout_seconds=0.5, webhook_retry_delays="60")
    )
    async with pool.acquire() as conn:
        goal_id = await goal_with_check_ins(conn, 0)
    with receiving(plan) as receiver:
        endpoint_id, _ = await add_endpoint(pool, receiver.url)
        await fan_out(pool, [goal_id])
        started = time.monotonic()
        await hurried.send_endpoint(endpoint_id)
        took = time.monotonic() - started

    assert took < 3
    attempt = await pool.fetchrow("SELECT status_code, error, duration_ms FROM webhook_attempts")
    assert attempt is not None
    assert attempt["status_code"] is None
    assert attempt["error"] == "no answer within 0.5 s"
    assert 400 <= attempt["duration_ms"] < 2000
    delivery = await pool.fetchrow(
        "SELECT state, next_attempt_at - now() AS wait FROM webhook_deliveries"
    )
    assert delivery is not None
    assert delivery["state"] == "pending"
    assert 40 < delivery["wait"].total_seconds() < 80  # 60 s ± 20 %


async def test_replay_since_a_sequence_fills_a_gap(pool: asyncpg.Pool, sender: Sender) -> None:
    (goal_id,) = await goals_with_events(pool, 1, 6)
    with receiving() as receiver:
        endpoint_id, secret = await add_endpoint(pool, receiver.url)
        await fan_out(pool, [goal_id])
        assert await send_until(sender, endpoint_id, lambda: len(receiver.received) >= 6)
        first = {r.verified(secret)["data"]["sequence"]: r.webhook_id for r in receiver.received}
        # The receiver lost sequence 4 after it answered: it asks for everything from 4 on.
        assert await history.replay(pool, endpoint_id, 4, None) == 3  # type: ignore[arg-type]
        assert await send_until(sender, endpoint_id, lambda: len(receiver.received) >= 9)
        again = [r.verified(secret) for r in receiver.received[6:]]

    assert sorted(body["data"]["sequence"] for body in again) == [4, 5, 6]
    assert {r.webhook_id for r in receiver.received[6:]} == {first[4], first[5], first[6]}


async def test_both_secrets_sign_during_the_overlap_of_a_rotation(
    pool: asyncpg.Pool, sender: Sender
) -> None:
    from infra.webhooks import endpoints  # noqa: PLC0415
    from infra.webhooks.signing import new_secret  # noqa: PLC0415

    async with pool.acquire() as conn:
        goal_ids = [await goal_with_check_ins(conn, 0) for _ in range(2)]
    with receiving() as receiver:
        endpoint_id, old = await add_endpoint(pool, receiver.url)
        new = new_secret()
        clinic = await _clinic(pool)
        assert await endpoints.rotate_secret(pool, clinic, endpoint_id, new) is not None  # type: ignore[arg-type]
        await fan_out(pool, goal_ids[:1])
        assert await send_until(sender, endpoint_id, lambda: len(receiver.received) >= 1)
        during = receiver.received[0]
        # Once the overlap ends, only the new secret signs.
        await pool.execute(
            "UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 s'"
        )
        await fan_out(pool, goal_ids[1:])
        assert await send_until(sender, endpoint_id, lambda: len(receiver.received) >= 2)
        after = receiver.received[1]

    assert during.verified(old)["type"] == "goal.set"
    assert during.verified(new)["type"] == "goal.set"
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    after.verified(new)
    with pytest.raises(WebhookVerificationError):
        after.verified(old)


async def test_full_format_carries_the_event_fields(pool: asyncpg.Pool, sender: Sender) -> None:
    async with pool.acquire() as conn:
        goal_id = await goal_with_check_ins(conn, 0)
    with receiving() as receiver:
        endpoint_id, secret = await add_endpoint(pool, receiver.url, format="full")
        await fan_out(pool, [goal_id])
        assert await send_until(sender, endpoint_id, lambda: len(receiver.received) >= 1)
    body = receiver.received[0].verified(secret)
    assert body["data"]["event"]["goal_id"] == str(goal_id)
    assert body["data"]["event"]["terms"]["statement"] == "Walk for 30 minutes"
    assert msgspec.json.decode(receiver.received[0].body) == body


async def _clinic(pool: asyncpg.Pool) -> object:
    return await pool.fetchval("SELECT id FROM clinics LIMIT 1")


def _uuid(text: str) -> object:
    import uuid  # noqa: PLC0415

    return uuid.UUID(text)


async def test_fhir_format_carries_the_goal_as_it_stood_after_each_event(
    pool: asyncpg.Pool, sender: Sender
) -> None:
    (goal_id,) = await goals_with_events(pool, 1, 3)
    with receiving() as receiver:
        endpoint_id, secret = await add_endpoint(pool, receiver.url, format="fhir")
        await fan_out(pool, [goal_id])
        assert await send_until(sender, endpoint_id, lambda: len(receiver.received) >= 3)
    bodies = sorted(
        (request.verified(secret) for request in receiver.received),
        key=lambda sent: sent["data"]["sequence"],
    )
    for number, sent in enumerate(bodies, 1):
        goal = validate_fhir(sent["data"]["resource"])
        assert goal["resourceType"] == "Goal"
        assert goal["id"] == str(goal_id)
        assert goal["meta"]["versionId"] == str(number)
        assert goal["lifecycleStatus"] == "active"
        assert "event" not in sent["data"]
