"""The worker service's mail delivery, as an operator runs it: a service killed in the middle
of sending loses no e-mail, and the one that replaces it sends each e-mail once."""

import asyncio

import asyncpg

from infra.access.clinics import start_clinic
from tests.integration.mail.conftest import environment, mail_environment
from tests.integration.mail.outbox_rows import outbox, queue_some, statuses
from tests.integration.mail.smtp_server import smtp_server
from tests.integration.worker.launcher import WorkerServices
from tests.waiting import wait_until

EMAILS = 6
WITHIN = 30.0


async def test_a_service_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    worker_services: WorkerServices, pool: asyncpg.Pool, database_url: str
) -> None:
    with smtp_server() as smtp:
        # The lease is short, so that the replacement takes the held e-mail soon; longer than
        # the send's timeout, which the kill comes well within.
        settings = mail_environment(
            database_url, smtp.port, SMTP_TIMEOUT_SECONDS="3", MAIL_LEASE_SECONDS="4"
        )
        with environment(settings):
            async with pool.acquire() as conn, conn.transaction():
                admin, _ = await start_clinic(conn, "North", "admin@north.example", "key")
            await queue_some(pool, admin.clinic_id, EMAILS)
        first = worker_services.start(**settings)

        async def two_accepted() -> bool:
            return len(smtp.mailbox.accepted) >= 2

        assert await wait_until(two_accepted, WITHIN, interval=0.02)
        smtp.mailbox.hold.set()  # the next e-mail's data arrives, and waits for its answer
        assert await asyncio.to_thread(smtp.mailbox.held.wait, WITHIN)
        first.kill()
        # The server never said it took the held e-mail: as far as anyone knows, it is unsent.
        smtp.mailbox.answer_held_with = "451 4.3.0 the client went away"
        smtp.mailbox.release.set()
        accepted_before = len(smtp.mailbox.accepted)
        rows = await outbox(pool)
        assert sum(row["status"] == "sent" for row in rows) == accepted_before
        assert sum(row["claimed_by"] is not None for row in rows) == 1

        worker_services.start(**settings)

        async def all_sent() -> bool:
            return await statuses(pool) == {"sent": EMAILS}

        assert await wait_until(all_sent, WITHIN, interval=0.1)
        delivered = smtp.mailbox.message_ids()
        assert sorted(delivered) == sorted(row["message_id"] for row in await outbox(pool))
        assert set(delivered.values()) == {1}
        attempts = sorted(row["attempts"] for row in await outbox(pool))
        assert attempts == [1] * (EMAILS - 1) + [2]  # the held one was tried by each service
