"""Nudges by e-mail, through the outbox to a real SMTP server: a notice and a link, never what
the nudge says; a one-click unsubscribe; once per nudge however often the scan finds it."""

import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import asyncpg

from infra.config import Settings
from infra.nudges.email import SUBJECT, email_channel
from infra.nudges.scanner import scan
from infra.nudges.unsubscribe import unsubscriber
from tests.integration.mail.conftest import Senders
from tests.integration.mail.smtp_server import SmtpServer, body
from tests.integration.nudges.world import People, people, set_goal, terms
from tests.integration.worker.projection import wait_until

STATEMENT = "Walk past the old bakery on Elm Street"


async def _reminded(pool: asyncpg.Pool, *, email: bool) -> People:
    """A client with a daily goal due a reminder now, whatever the hour."""
    async with pool.acquire() as conn:
        world = await people(conn, client_zone="UTC")
        await conn.execute(
            "INSERT INTO notification_preferences (user_id, quiet_start, quiet_end, "
            "reminder_time, email) VALUES ($1, '00:00', '00:00', '00:00', $2)",
            world.client.id,
            email,
        )
        now = datetime.now(UTC)
        goal = terms(
            STATEMENT,
            start=now.date() - timedelta(days=1),
            due=now.date() + timedelta(days=20),
            zone="UTC",
        )
        await set_goal(conn, world, goal, now)
    return world


async def _scan(pool: asyncpg.Pool, settings: Settings) -> None:
    async with pool.acquire() as conn:
        assert (
            await scan(conn, datetime.now(UTC), due_soon_days=3, email=email_channel(settings))
            is not None
        )


def _everything_said(message: EmailMessage) -> str:
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    return "\n".join((headers, body(message, "plain"), body(message, "html")))


async def test_a_nudge_email_says_only_that_there_is_news_and_can_be_stopped_in_one_click(
    pool: asyncpg.Pool, mail_settings: Settings, smtp: SmtpServer, senders: Senders
) -> None:
    world = await _reminded(pool, email=True)
    for _ in range(3):
        await _scan(pool, mail_settings)
    await senders.start()

    async def delivered() -> bool:
        return len(smtp.mailbox.accepted) >= 1

    assert await wait_until(delivered, 15, interval=0.05)
    (message,) = smtp.mailbox.accepted
    assert message["Subject"] == SUBJECT
    assert message["To"] == world.client.email
    assert body(message, "plain").startswith(SUBJECT)
    said = _everything_said(message)
    for secret in (STATEMENT, "Elm Street", "reminder", "walk"):
        assert secret.lower() not in said.lower()
    link = str(message["List-Unsubscribe"]).strip("<>")
    assert link.startswith(f"{mail_settings.public_base_url}/v1/unsubscribe/")
    assert unsubscriber(link.rsplit("/", 1)[1], mail_settings.token_hash_key) == world.client.id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Found again by later scans, it is not e-mailed again.
    await _scan(pool, mail_settings)
    assert await pool.fetchval("SELECT count(*) FROM email_outbox") == 1


async def test_with_email_off_a_nudge_goes_in_app_only(
    pool: asyncpg.Pool, mail_settings: Settings
) -> None:
    await _reminded(pool, email=False)

    await _scan(pool, mail_settings)

    channels = await pool.fetchval("SELECT channels FROM nudges WHERE status = 'sent'")
    assert channels == ["in_app"]
    assert await pool.fetchval("SELECT count(*) FROM email_outbox") == 0


async def test_an_address_mail_cannot_use_leaves_the_nudge_in_the_app(
    pool: asyncpg.Pool, mail_settings: Settings
) -> None:
    world = await _reminded(pool, email=True)
    await pool.execute("UPDATE users SET email = 'a,b@example.org' WHERE id = $1", world.client.id)

    await _scan(pool, mail_settings)

    assert await pool.fetchval("SELECT channels FROM nudges WHERE status = 'sent'") == ["in_app"]
    assert await pool.fetchval("SELECT count(*) FROM email_outbox") == 0
    # The log says the channels that carried it, not those the preferences allowed.
    sent = await pool.fetchval(
        "SELECT data ->> 'channels' FROM events WHERE event_type = 'nudge_sent'"
    )
    assert json.loads(sent) == ["in_app"]


async def test_a_nudge_nothing_can_carry_is_dropped_with_the_reason(
    pool: asyncpg.Pool, mail_settings: Settings
) -> None:
    world = await _reminded(pool, email=True)
    await pool.execute("UPDATE notification_preferences SET in_app = false")
    await pool.execute("UPDATE users SET email = 'a,b@example.org' WHERE id = $1", world.client.id)

    await _scan(pool, mail_settings)

    dropped = await pool.fetchrow("SELECT status, dropped_reason, channels FROM nudges")
    assert dropped is not None
    assert tuple(dropped) == ("dropped", "no_usable_channel", [])
    recorded = await pool.fetch("SELECT event_type FROM events WHERE stream_id LIKE 'nudge-%'")
    assert [row["event_type"] for row in recorded] == ["nudge_dropped"]
