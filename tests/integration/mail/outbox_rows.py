"""Queuing test e-mails and reading the outbox as an operator would."""

from typing import Any
from uuid import UUID

import asyncpg

from infra.mail.outbox import queue_email

SUBJECT = "You have a new update from your care team"
UNSUBSCRIBE = "<https://goals.clinic.example/unsubscribe/abc>"


async def queue_some(pool: asyncpg.Pool, clinic_id: UUID, count: int, prefix: str = "e") -> None:
    async with pool.acquire() as conn:
        for number in range(count):
            queued = await queue_email(
                conn,
                dedup_key=f"{prefix}-{number}",
                clinic_id=clinic_id,
                to_address=f"person{number}@example.org",
                subject=SUBJECT,
                text=f"Hello number {number}",
                html=f"<p>Hello number {number}</p>",
                headers={"List-Unsubscribe": UNSUBSCRIBE},
            )
            assert queued


async def outbox(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT dedup_key, status, attempts, last_error, message_id, body_text, body_html,"
        " claimed_by, sent_at FROM email_outbox ORDER BY dedup_key"
    )
    return [dict(row) for row in rows]


async def statuses(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT status, count(*) AS n FROM email_outbox GROUP BY status")
    return {row["status"]: row["n"] for row in rows}
