"""`nudge.sent` to a real receiver on loopback, verified with the reference `standardwebhooks`:
in the order the nudges were sent, the minimum necessary, the checkpoint moved with the
deliveries it recorded, and a replay once a disabled endpoint is enabled again."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from domain.nudges.nudge import Nudge, NudgeKind, nudge_key
from infra.audit.access_reads import DisclosureFilter, disclosures_to
from infra.eventstore.envelope import RecordedEvent
from infra.nudges.delivery import deliver_due
from infra.nudges.stored import Origin, store
from infra.projections.feed import read_checkpoint
from infra.projections.feed_consumer import feed_follower
from infra.webhooks import endpoints, history, nudge_fanout
from infra.webhooks.endpoints import NewEndpoint
from infra.webhooks.outcomes import disable
from infra.webhooks.sender import Sender
from infra.webhooks.signing import new_secret
from tests.integration.nudges.world import People, people, set_goal, terms
from tests.integration.webhooks.conftest import send_until, states
from tests.integration.webhooks.receiver import receiving

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
STATEMENT = "Call my sister about the hospital visit"


async def _world(pool: asyncpg.Pool) -> tuple[People, UUID]:
    async with pool.acquire() as conn:
        world = await people(conn, client_zone="UTC", therapist_zone="UTC")
        goal = terms(STATEMENT, start=NOW.date(), due=NOW.date() + timedelta(days=9), zone="UTC")
        goal_id = await set_goal(conn, world, goal, NOW - timedelta(days=1))
    return world, goal_id


async def _endpoint(pool: asyncpg.Pool, world: People, url: str, format: str) -> tuple[UUID, str]:
    secret = new_secret()
    new = NewEndpoint(uuid.uuid4(), world.clinic_id, url, ["nudge.sent"], format, "", secret)  # type: ignore[arg-type]
    async with pool.acquire() as conn:
        return (await endpoints.create(conn, new)).id, secret


async def _send_nudges(
    pool: asyncpg.Pool, world: People, found: list[tuple[NudgeKind, UUID, UUID | None]]
) -> None:
    """Stores the nudges (kind, recipient, goal) and sends them, in-app, in that order."""
    nudges = [
        Nudge(
            nudge_key(kind, goal_id or recipient, f"occurrence-{index}", recipient),
            kind,
            recipient,
            world.clinic_id,
            goal_id,
            f"About “{STATEMENT}”, {index}",
            NOW + timedelta(seconds=index),
            None,
        )
        for index, (kind, recipient, goal_id) in enumerate(found)
    ]
    async with pool.acquire() as conn:
        for nudge in nudges:  # one by one, so that the feed holds them in this order
            await store(conn, [nudge], now=NOW, origins=[Origin("test")])
            await conn.execute(
                "INSERT INTO notification_preferences (user_id, quiet_start, quiet_end, "
                "daily_cap) VALUES ($1, '00:00', '00:00', 20) ON CONFLICT DO NOTHING",
                nudge.recipient_id,
            )
            await deliver_due(conn, nudge.deliver_at, None)


async def _follow(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        while await nudge_fanout.CONSUMER.follow(conn):
            pass


async def test_nudges_sent_arrive_in_order_signed_with_the_minimum_necessary(
    pool: asyncpg.Pool, sender: Sender
) -> None:
    world, goal_id = await _world(pool)
    with receiving() as receiver:
        id_only, id_only_secret = await _endpoint(pool, world, receiver.url, "id-only")
        full, full_secret = await _endpoint(pool, world, receiver.url, "full")
        fhir, fhir_secret = await _endpoint(pool, world, receiver.url, "fhir")
        await _send_nudges(
            pool,
            world,
            [
                ("after_miss", world.client.id, goal_id),
                ("overdue", world.therapist.id, goal_id),
                ("overload", world.client.id, None),
            ],
        )
        await _follow(pool)
        for done, endpoint_id in enumerate((id_only, full, fhir), 1):

            def arrived(expected: int = 3 * done) -> bool:
                return len(receiver.received) >= expected

            assert await send_until(sender, endpoint_id, arrived)
        received = list(receiver.received)

    secrets = {id_only: id_only_secret, full: full_secret, fhir: fhir_secret}
    bodies: dict[UUID, list[Any]] = {endpoint_id: [] for endpoint_id in secrets}
    for request in received:
        endpoint_id = await pool.fetchval(
            "SELECT endpoint_id FROM webhook_deliveries WHERE id = $1", UUID(request.webhook_id)
        )
        bodies[endpoint_id].append(request.verified(secrets[endpoint_id]))
    for endpoint_id in secrets:
        # Several requests are in flight at once: the sequence, not arrival, says the order.
        bodies[endpoint_id].sort(key=lambda body: body["data"]["sequence"])
        assert [body["data"]["sequence"] for body in bodies[endpoint_id]] == [1, 2, 3]
        assert {body["type"] for body in bodies[endpoint_id]} == {"nudge.sent"}
    sent = await pool.fetch(
        "SELECT e.event_id, e.position, n.id AS nudge_id FROM events e "
        "JOIN nudges n ON e.stream_id = 'nudge-' || n.id "
        "WHERE e.event_type = 'nudge_sent' ORDER BY e.position"
    )
    first = bodies[id_only][0]["data"]
    assert first == {
        "event_id": str(sent[0]["event_id"]),
        "sequence": 1,
        "position": sent[0]["position"],
        "nudge_id": str(sent[0]["nudge_id"]),
        "goal_id": str(goal_id),
        "stream_version": 1,
        "clinic_id": str(world.clinic_id),
        "actor_role": "system",
    }
    assert [body["data"]["nudge_id"] for body in bodies[id_only]] == [
        str(row["nudge_id"]) for row in sent
    ]
    assert bodies[fhir] == bodies[id_only]  # a nudge is no FHIR Goal: its ids alone
    assert [body["data"]["nudge"] for body in bodies[full]] == [
        {"rule": "after_miss", "goal_id": str(goal_id), "recipient_role": "client",
         "channels": ["in_app"]},
        {"rule": "overdue", "goal_id": str(goal_id), "recipient_role": "therapist",
         "channels": ["in_app"]},
        {"rule": "overload", "goal_id": None, "recipient_role": "client", "channels": ["in_app"]},
    ]  # fmt: skip
    everything = b" ".join(request.body for request in received).decode()
    for private in (STATEMENT, "hospital", str(world.client.id), str(world.therapist.id)):
        assert private not in everything
    # Each delivery names the client it was about, for the accounting of disclosures.
    disclosed = await history.disclosures_of_client(pool, world.clinic_id, world.client.id)  # type: ignore[arg-type]
    assert len(disclosed) == 9
    async with pool.acquire() as conn:
        shown = await disclosures_to(
            conn, DisclosureFilter(world.clinic_id, world.client.id, limit=20)
        )
    assert sorted(len(disclosure.goal_ids) for disclosure in shown) == [0] * 3 + [1] * 6


async def test_a_disabled_endpoint_gets_its_nudges_by_replay_once_enabled(
    pool: asyncpg.Pool, sender: Sender
) -> None:
    world, goal_id = await _world(pool)
    with receiving() as receiver:
        endpoint_id, secret = await _endpoint(pool, world, receiver.url, "id-only")
        await disable(pool, endpoint_id, "by_user")  # type: ignore[arg-type]
        await _send_nudges(pool, world, [("celebration", world.client.id, goal_id)])
        await _follow(pool)
        assert await states(pool, endpoint_id) == {"held": 1}
        assert await sender.send_endpoint(endpoint_id) == 0

        assert await endpoints.enable(pool, world.clinic_id, endpoint_id) is not None  # type: ignore[arg-type]
        assert await history.replay(pool, endpoint_id, 1, None) == 1  # type: ignore[arg-type]
        assert await send_until(sender, endpoint_id, lambda: len(receiver.received) >= 1)

    (request,) = receiver.received
    assert request.verified(secret)["type"] == "nudge.sent"
    assert await states(pool, endpoint_id) == {"delivered": 1}


async def test_an_endpoint_gets_only_the_nudges_sent_after_it_was_made(pool: asyncpg.Pool) -> None:
    world, goal_id = await _world(pool)
    await _send_nudges(pool, world, [("celebration", world.client.id, goal_id)])
    endpoint_id, _ = await _endpoint(pool, world, "https://hooks.example.org/", "id-only")
    await _send_nudges(pool, world, [("after_miss", world.client.id, goal_id)])
    await _follow(pool)
    await _follow(pool)  # caught up: nothing is recorded twice
    rows = await pool.fetch(
        "SELECT e.data ->> 'kind' AS kind FROM webhook_deliveries d "
        "JOIN events e ON e.event_id = d.event_id WHERE d.endpoint_id = $1",
        endpoint_id,
    )
    assert [row["kind"] for row in rows] == ["after_miss"]


async def test_deliveries_and_the_checkpoint_are_written_together_or_not_at_all(
    pool: asyncpg.Pool,
) -> None:
    world, goal_id = await _world(pool)
    endpoint_id, _ = await _endpoint(pool, world, "https://hooks.example.org/", "id-only")
    await _send_nudges(pool, world, [("celebration", world.client.id, goal_id)])

    async def records_then_fails(conn: Any, events: list[RecordedEvent]) -> None:
        await nudge_fanout.record_nudge_deliveries(conn, events)
        raise RuntimeError("cut short after recording")

    failing = feed_follower(nudge_fanout.NAME, records_then_fails)
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            await failing.follow(conn)
        assert await read_checkpoint(conn, nudge_fanout.NAME) == await read_checkpoint(
            conn, "never-run"
        )
    assert await states(pool, endpoint_id) == {}

    await _follow(pool)
    assert await states(pool, endpoint_id) == {"pending": 1}
