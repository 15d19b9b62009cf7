"""The mail delivery against a real SMTP server: what goes out, once, whatever fails."""

import asyncio
from uuid import UUID

import asyncpg
import msgspec
from structlog.testing import capture_logs

from infra.config import Settings
from infra.mail.smtp import SmtpSender
from services.worker.mail import MailDelivery
from tests.integration.mail.conftest import MAIL_FROM, Senders
from tests.integration.mail.outbox_rows import (
    SUBJECT,
    UNSUBSCRIBE,
    outbox,
    queue_some,
    statuses,
)
from tests.integration.mail.smtp_server import SmtpServer, body
from tests.waiting import wait_until

WITHIN = 15.0


async def test_an_email_goes_out_with_its_headers_and_parts_and_its_body_is_then_forgotten(
    pool: asyncpg.Pool, clinic_id: UUID, smtp: SmtpServer, senders: Senders
) -> None:
    await queue_some(pool, clinic_id, 1)
    await senders.start()

    async def sent() -> bool:
        return (await statuses(pool)).get("sent") == 1

    assert await wait_until(sent, WITHIN, interval=0.05)
    (message,) = smtp.mailbox.accepted
    (row,) = await outbox(pool)
    assert message["From"] == MAIL_FROM
    assert message["To"] == "person0@example.org"
    assert message["Subject"] == SUBJECT
    assert message["List-Unsubscribe"] == UNSUBSCRIBE
    assert message["Message-ID"] == row["message_id"]
    assert row["message_id"].endswith("@clinic.example>")
    assert body(message, "plain").strip() == "Hello number 0"
    assert body(message, "html").strip() == "<p>Hello number 0</p>"
    assert row["attempts"] == 1
    assert row["sent_at"] is not None
    assert (row["body_text"], row["body_html"], row["claimed_by"]) == (None, None, None)


async def test_smtp_down_then_up_delivers_every_pending_email_exactly_once(
    pool: asyncpg.Pool,
    clinic_id: UUID,
    smtp: SmtpServer,
    mail_settings: Settings,
    senders: Senders,
) -> None:
    smtp.stop()
    await queue_some(pool, clinic_id, 8)
    # However long the outage lasts in this test, nothing is given up on.
    await senders.start(msgspec.structs.replace(mail_settings, mail_max_attempts=1000))

    async def each_tried_twice() -> bool:
        rows = await outbox(pool)
        return all(row["attempts"] >= 2 and row["last_error"] for row in rows)

    assert await wait_until(each_tried_twice, WITHIN, interval=0.05)
    assert await statuses(pool) == {"pending": 8}
    smtp.start()

    async def all_sent() -> bool:
        return await statuses(pool) == {"sent": 8}

    assert await wait_until(all_sent, WITHIN, interval=0.05)
    delivered = smtp.mailbox.message_ids()
    assert sorted(delivered) == sorted(row["message_id"] for row in await outbox(pool))
    assert set(delivered.values()) == {1}


async def test_two_senders_at_once_send_each_email_once(
    pool: asyncpg.Pool, clinic_id: UUID, smtp: SmtpServer, senders: Senders
) -> None:
    smtp.mailbox.delay_seconds = 0.02  # so that both senders are mid-send at the same time
    await queue_some(pool, clinic_id, 40)
    first, second = await senders.start(), await senders.start()

    async def all_sent() -> bool:
        return await statuses(pool) == {"sent": 40}

    assert await wait_until(all_sent, WITHIN, interval=0.05)
    delivered = smtp.mailbox.message_ids()
    assert len(delivered) == 40
    assert set(delivered.values()) == {1}
    # Neither took an e-mail the other held, and both took part.
    attempts = await pool.fetch("SELECT attempts FROM email_outbox")
    assert {row["attempts"] for row in attempts} == {1}
    assert first.sent + second.sent == 40
    assert min(first.sent, second.sent) > 0


async def test_a_refused_recipient_fails_at_once_and_a_failing_server_is_given_up_on(
    pool: asyncpg.Pool,
    clinic_id: UUID,
    smtp: SmtpServer,
    mail_settings: Settings,
    senders: Senders,
) -> None:
    smtp.mailbox.refused_recipients.add("person0@example.org")
    await queue_some(pool, clinic_id, 2)
    await senders.start()

    async def settled() -> bool:
        return await statuses(pool) == {"failed": 1, "sent": 1}

    assert await wait_until(settled, WITHIN, interval=0.05)
    refused, sent = await outbox(pool)
    assert refused["attempts"] == 1
    assert "550" in refused["last_error"]
    assert (refused["body_text"], refused["body_html"]) == (None, None)
    assert sent["status"] == "sent"

    await senders.stop()
    smtp.stop()
    await queue_some(pool, clinic_id, 1, prefix="later")
    await senders.start()

    async def given_up() -> bool:
        return (await statuses(pool)).get("failed") == 2

    assert await wait_until(given_up, WITHIN, interval=0.05)
    (later,) = [row for row in await outbox(pool) if row["dedup_key"] == "later-0"]
    assert later["attempts"] == mail_settings.mail_max_attempts


async def test_while_the_server_is_away_a_pass_spends_one_attempt_not_one_per_email(
    pool: asyncpg.Pool, clinic_id: UUID, smtp: SmtpServer, mail_settings: Settings
) -> None:
    smtp.stop()
    await queue_some(pool, clinic_id, 20)
    delivery = MailDelivery(mail_settings, pool, SmtpSender(mail_settings))

    await delivery.deliver_due(asyncio.Event())

    assert await pool.fetchval("SELECT sum(attempts) FROM email_outbox") == 1
    assert delivery.smtp.ongoing
    smtp.start()
    await delivery.deliver_due(asyncio.Event())
    # All but perhaps the one tried during the outage, which may still wait for its retry.
    assert (await statuses(pool)).get("sent", 0) >= 19
    assert not delivery.smtp.ongoing


async def test_a_refusal_naming_its_recipient_leaves_the_address_out_of_logs_and_errors(
    pool: asyncpg.Pool, clinic_id: UUID, smtp: SmtpServer, mail_settings: Settings
) -> None:
    smtp.mailbox.refused_recipients.add("person0@example.org")
    await queue_some(pool, clinic_id, 1)
    delivery = MailDelivery(mail_settings, pool, SmtpSender(mail_settings))

    with capture_logs() as logs:
        await delivery.deliver_due(asyncio.Event())
        await delivery.deliver_due(asyncio.Event())

    (refused,) = await outbox(pool)
    assert refused["status"] == "failed"
    assert "550" in refused["last_error"]
    assert "person0" not in refused["last_error"]
    assert [entry["event"] for entry in logs if "email_id" in entry] == ["mail_failed"]
    assert "person0" not in repr(logs)
