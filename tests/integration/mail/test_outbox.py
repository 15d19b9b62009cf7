"""`queue_email`: one e-mail per key, in the caller's transaction, nothing while e-mail is off,
and nothing that could break out of its header."""

from uuid import UUID

import asyncpg
import pytest

from infra.db.connection import Connection
from infra.mail.outbox import InvalidEmail, queue_email
from tests.integration.mail.conftest import environment
from tests.integration.mail.outbox_rows import SUBJECT, outbox


async def _queue(conn: Connection, clinic_id: UUID, **changes: object) -> bool:
    email: dict[str, object] = {
        "dedup_key": "nudge:1",
        "clinic_id": clinic_id,
        "to_address": "riley@example.org",
        "subject": SUBJECT,
        "text": "Hello",
        "html": None,
        "headers": {},
    }
    return await queue_email(conn, **(email | changes))  # type: ignore[arg-type]


@pytest.mark.usefixtures("mail_settings")
async def test_a_key_is_queued_once_and_only_when_its_transaction_commits(
    pool: asyncpg.Pool, clinic_id: UUID
) -> None:
    async with pool.acquire() as conn:
        failing = conn.transaction()
        await failing.start()
        assert await _queue(conn, clinic_id)
        await failing.rollback()  # the caller's work failed after it queued
        assert await outbox(pool) == []

        async with conn.transaction():
            assert await _queue(conn, clinic_id)
        assert not await _queue(conn, clinic_id, text="said again")

    (row,) = await outbox(pool)
    assert (row["dedup_key"], row["status"], row["attempts"]) == ("nudge:1", "pending", 0)
    assert row["body_text"] == "Hello"


async def test_while_smtp_is_unset_nothing_is_queued(
    pool: asyncpg.Pool, clinic_id: UUID, database_url: str
) -> None:
    with environment({"SMTP_HOST": "", "DATABASE_URL": database_url}) as settings:
        assert not settings.mail_enabled
        async with pool.acquire() as conn:
            assert not await _queue(conn, clinic_id)

    assert await outbox(pool) == []


BREAKING: list[dict[str, object]] = [
    {"to_address": "not an address"},
    {"to_address": "riley@example.org\r\nBcc: everyone@example.org"},
    {"subject": "Update\r\nBcc: everyone@example.org"},
    {"subject": ""},
    {"subject": "x" * 201},
    {"headers": {"Bcc": "everyone@example.org"}},
    {"headers": {"message-id": "<mine@example.org>"}},
    {"headers": {"X-Note": "one\nBcc: everyone@example.org"}},
    {"headers": {"Bad Name": "x"}},
]


@pytest.mark.usefixtures("mail_settings")
async def test_an_email_that_would_break_its_headers_is_refused(
    pool: asyncpg.Pool, clinic_id: UUID
) -> None:
    async with pool.acquire() as conn:
        for changes in BREAKING:
            with pytest.raises(InvalidEmail):
                await _queue(conn, clinic_id, **changes)
        assert await _queue(conn, clinic_id, headers={"List-Unsubscribe": "<https://x/u/1>"})

    assert len(await outbox(pool)) == 1


# What the service's role may not do to the outbox: lose an e-mail, or rewrite where it goes.
FORBIDDEN = [
    "DELETE FROM email_outbox",
    "TRUNCATE email_outbox",
    "UPDATE email_outbox SET to_address = 'elsewhere@example.org'",
    "UPDATE email_outbox SET subject = 'changed'",
    "UPDATE email_outbox SET headers = '{}'",
    "UPDATE email_outbox SET dedup_key = 'other'",
    "UPDATE email_outbox SET message_id = '<other@example.org>'",
]


@pytest.mark.usefixtures("mail_settings")
async def test_the_service_may_not_delete_or_redirect_an_email(
    pool: asyncpg.Pool, clinic_id: UUID
) -> None:
    async with pool.acquire() as conn:
        assert await _queue(conn, clinic_id)
        for statement in FORBIDDEN:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
    assert len(await outbox(pool)) == 1
