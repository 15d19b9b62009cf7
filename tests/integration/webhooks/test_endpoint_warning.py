"""The warning before a failing endpoint is disabled: a nudge to each active admin of its clinic,
in the app and by e-mail, once per failing streak, with nothing of what the endpoint was sent.
On a shortened schedule (disabled after 10 s of failures, warned 2 s before) and a test clock."""

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from infra.access import identity
from infra.access.queries import User
from infra.db.connection import Connection
from infra.nudges.delivery import deliver_due
from infra.nudges.email import email_channel
from infra.webhooks import endpoints, fanout
from infra.webhooks.endpoints import NewEndpoint
from infra.webhooks.sender import Sender
from infra.webhooks.signing import new_secret
from tests.integration.mail.conftest import environment, mail_environment
from tests.integration.nudges.world import METADATA, People, people, set_goal, terms
from tests.integration.webhooks.conftest import webhook_settings
from tests.integration.webhooks.receiver import Answer, Receiver, receiving

STATEMENT = "Stop drinking before the court date"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def _admin(conn: Connection, world: People, name: str) -> User:
    user = User(
        uuid.uuid4(), world.clinic_id, "admin", name, f"{name}@x.example", "UTC", datetime.now(UTC)
    )
    await identity.register_user(conn, user, METADATA)
    # No quiet hours: the warning goes out whatever the hour the test runs at.
    await conn.execute(
        "INSERT INTO notification_preferences (user_id, quiet_start, quiet_end) "
        "VALUES ($1, '00:00', '00:00')",
        user.id,
    )
    return user


async def _fail_again(pool: asyncpg.Pool, sender: Sender, endpoint_id: uuid.UUID) -> None:
    """The delivery's next attempt, now, failed like the others."""
    await pool.execute("UPDATE webhook_deliveries SET next_attempt_at = now()")
    assert await sender.send_endpoint(endpoint_id) == 1


async def test_admins_are_nudged_once_a_day_before_a_failing_endpoint_is_disabled(
    pool: asyncpg.Pool, database_url: str
) -> None:
    clock = Clock()
    sender = Sender(
        pool, webhook_settings(database_url, webhook_disable_after_seconds=10), clock=clock
    )
    async with pool.acquire() as conn:
        world = await people(conn, client_zone="UTC")
        admins = [await _admin(conn, world, name) for name in ("ada", "bo", "cy")]
        await conn.execute("UPDATE users SET deactivated_at = now() WHERE id = $1", admins[2].id)
        today = clock.now.date()
        goal = terms(STATEMENT, start=today, due=today + timedelta(days=9), zone="UTC")
        await set_goal(conn, world, goal, clock.now)
        founder = await conn.fetchval(
            "SELECT id FROM users WHERE clinic_id = $1 AND role = 'admin' AND id <> ALL($2)",
            world.clinic_id,
            [admin.id for admin in admins],
        )
        await conn.execute(
            "INSERT INTO notification_preferences (user_id, quiet_start, quiet_end) "
            "VALUES ($1, '00:00', '00:00')",
            founder,
        )

    def unavailable(receiver: Receiver, body: bytes) -> Answer:
        return Answer(503)

    with receiving(unavailable) as receiver:
        new = NewEndpoint(
            uuid.uuid4(), world.clinic_id, receiver.url, ["*"], "full", "", new_secret()
        )
        async with pool.acquire() as conn:
            endpoint_id = (await endpoints.create(conn, new)).id
            await fanout.CONSUMER.apply(
                conn, await conn.fetchval("SELECT goal_id FROM goal_summaries")
            )
        assert await sender.send_endpoint(endpoint_id) == 1  # the streak starts
        clock.now += timedelta(seconds=7)
        await _fail_again(pool, sender, endpoint_id)
        assert await pool.fetchval("SELECT count(*) FROM nudges") == 0  # 7 s in: not yet

        clock.now += timedelta(seconds=1.5)
        await _fail_again(pool, sender, endpoint_id)
        # A second warning of the same streak (another sender, a lost `warned_at`) adds none.
        await pool.execute("UPDATE webhook_endpoints SET warned_at = NULL")
        clock.now += timedelta(seconds=0.2)
        await _fail_again(pool, sender, endpoint_id)

    warned = await pool.fetch("SELECT recipient_id, kind, message, status FROM nudges")
    assert sorted(row["recipient_id"] for row in warned) == sorted(
        [founder, *(a.id for a in admins[:2])]
    )
    assert {row["kind"] for row in warned} == {"endpoint_failing"}
    assert await pool.fetchval("SELECT enabled FROM webhook_endpoints")
    message = warned[0]["message"]
    assert "127.0.0.1" in message
    for private in (STATEMENT, "court", str(world.client.id)):
        assert private not in message

    with environment(mail_environment(database_url, 1)) as mail_settings:
        async with pool.acquire() as conn:
            sent = await deliver_due(conn, clock.now, email_channel(mail_settings))
    assert sent.sent == 3
    rows = await pool.fetch("SELECT channels FROM nudges WHERE status = 'sent'")
    assert [row["channels"] for row in rows] == [["in_app", "email"]] * 3
    mailed = await pool.fetch("SELECT to_address, body_text FROM email_outbox")
    assert sorted(row["to_address"] for row in mailed) == sorted(
        ["a@x.example", "ada@x.example", "bo@x.example"]
    )
    for row in mailed:
        assert STATEMENT not in row["body_text"]
        assert "127.0.0.1" not in row["body_text"]
