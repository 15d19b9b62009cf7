"""Claims: a sender whose lease ran out records nothing over the sender that took its e-mail."""

import uuid
from uuid import UUID

import asyncpg
import pytest

from infra.mail.delivery import claim_due, record_retry, record_sent
from tests.integration.mail.outbox_rows import outbox, queue_some


@pytest.mark.usefixtures("mail_settings")
async def test_only_the_sender_holding_an_email_records_how_it_went(
    pool: asyncpg.Pool, clinic_id: UUID
) -> None:
    await queue_some(pool, clinic_id, 1)
    late, current = uuid.uuid4(), uuid.uuid4()
    async with pool.acquire() as conn:
        first = await claim_due(conn, late, lease_seconds=0)  # a lease that has run out
        second = await claim_due(conn, current, lease_seconds=60)
        nothing_due = await claim_due(conn, uuid.uuid4(), lease_seconds=60)
        assert first is not None
        assert second is not None
        assert (first.id, first.attempts, second.attempts) == (second.id, 1, 2)
        assert nothing_due is None  # held by `current` until its lease ends

        assert not await record_retry(conn, first.id, late, "late news", 0)
        assert not await record_sent(conn, first.id, late)
        assert await record_sent(conn, second.id, current)
        assert not await record_sent(conn, second.id, current)  # once sent, it stays sent

    (row,) = await outbox(pool)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)
