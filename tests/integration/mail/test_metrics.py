"""What `/metrics` says of the outbox: e-mail waiting, how late, and given up on."""

from uuid import UUID

import asyncpg

from tests.integration.mail.conftest import Api
from tests.integration.mail.outbox_rows import queue_some


def _metric(text: str, name: str) -> float:
    (line,) = [line for line in text.splitlines() if line.startswith(f"{name} ")]
    return float(line.split()[1])


async def test_metrics_count_pending_late_and_failed_email(
    api: Api, pool: asyncpg.Pool, admin_conn: asyncpg.Connection, clinic_id: UUID
) -> None:
    await queue_some(pool, clinic_id, 3)
    await admin_conn.execute(
        "UPDATE email_outbox SET next_attempt_at = now() - interval '90 seconds'"
        " WHERE dedup_key = 'e-0'"
    )
    await admin_conn.execute(
        "UPDATE email_outbox SET status = 'failed', body_text = NULL WHERE dedup_key = 'e-1'"
    )

    metrics = (await api.get("/metrics")).text

    assert _metric(metrics, "goals_mail_pending") == 2
    assert 90 <= _metric(metrics, "goals_mail_oldest_due_seconds") < 120
    assert _metric(metrics, "goals_mail_failed_total") == 1
