"""The mail delivery: one loop in each worker service that sends the outbox's due e-mail.

Every worker service runs one while e-mail is on; they share the outbox through their claims
(infra/mail/delivery.py), so none sends what another holds. All they know is in PostgreSQL: a
loop that starts finds what is due, whatever happened before.
"""

import asyncio
import contextlib
import random
import uuid

import asyncpg
import structlog

from infra.config import Settings
from infra.db.outages import Outage, unreachable
from infra.db.pool import close_pool, open_pool
from infra.mail.backoff import retry_delay
from infra.mail.delivery import (
    ClaimedEmail,
    claim_due,
    message_of,
    record_failed,
    record_retry,
    record_sent,
)
from infra.mail.smtp import SendFailed, SmtpSender

log = structlog.get_logger(__name__)

# While PostgreSQL is away, passes are tried less and less often, down to this.
LONGEST_DATABASE_WAIT_SECONDS = 5.0


# An attempt's e-mail and its failure (None: sent), kept until PostgreSQL has it.
Outcome = tuple[ClaimedEmail, SendFailed | None]


class MailDelivery:
    def __init__(self, settings: Settings, pool: asyncpg.Pool, sender: SmtpSender) -> None:
        self._settings = settings
        self._pool = pool
        self._sender = sender
        self.sender_id = uuid.uuid4()
        self.database = Outage("database")
        self.smtp = Outage("smtp")
        self._unrecorded: Outcome | None = None
        self.sent = 0

    async def run(self, stop: asyncio.Event) -> None:
        wait = self._settings.mail_poll_seconds
        try:
            while not stop.is_set():
                try:
                    await self.deliver_due(stop)
                except Exception as error:
                    if not unreachable(error):
                        raise
                    self.database.failed(error)
                    wait = min(max(wait, 0.1) * 2, LONGEST_DATABASE_WAIT_SECONDS)
                else:
                    self.database.recovered()
                    wait = self._settings.mail_poll_seconds
                await self._sender.close_if_idle()
                await _unless_stopped(stop, wait)
        finally:
            await self._sender.close()
            log.info("mail_delivery_stopped", sent=self.sent)

    async def deliver_due(self, stop: asyncio.Event) -> None:
        """Sends e-mail until none is due, the SMTP server cannot be reached, or `stop` is set.

        While the server is away, one e-mail a pass finds out whether it is back, rather than
        every due e-mail spending an attempt on it. An outcome that could not be recorded
        (PostgreSQL away) is recorded before any other e-mail is taken: were it dropped, the
        e-mail would go out again after its lease."""
        server_away = False
        while True:
            if self._unrecorded is not None:
                await self._record(self._unrecorded)
                self._unrecorded = None
            if stop.is_set() or server_away:
                return
            timeout = self._settings.database_acquire_timeout_seconds
            async with self._pool.acquire(timeout=timeout) as conn:
                email = await claim_due(conn, self.sender_id, self._settings.mail_lease_seconds)
            if email is None:
                return
            failure = await self._send(email)
            self._unrecorded = (email, failure)
            server_away = failure is not None and failure.unreachable

    async def _send(self, email: ClaimedEmail) -> SendFailed | None:
        try:
            await self._sender.send(message_of(email, self._settings.mail_from))
        except SendFailed as failure:
            if failure.unreachable:
                self.smtp.failed(failure)
            return failure
        self.smtp.recovered()
        return None

    async def _record(self, outcome: Outcome) -> None:
        settings, (email, failure) = self._settings, outcome
        timeout = settings.database_acquire_timeout_seconds
        async with self._pool.acquire(timeout=timeout) as conn:
            if failure is None:
                held = await record_sent(conn, email.id, self.sender_id)
                event = "mail_sent"
            elif failure.permanent or email.attempts >= settings.mail_max_attempts:
                held = await record_failed(conn, email.id, self.sender_id, str(failure))
                event = "mail_failed"
            else:
                delay = retry_delay(
                    email.attempts,
                    settings.mail_retry_first_seconds,
                    settings.mail_retry_max_seconds,
                    random.uniform(-1, 1),  # noqa: S311 - spreading retries, not a secret
                )
                held = await record_retry(conn, email.id, self.sender_id, str(failure), delay)
                event = "mail_retry_scheduled"
        # Addresses and texts stay out of the logs: the id leads to them, for who may see them.
        fields = {"email_id": str(email.id), "message_id": email.message_id}
        if failure is None:
            self.sent += 1
        if not held:
            log.warning("mail_claim_lost", **fields, outcome=event)
        elif failure is None:
            log.info(event, **fields, attempt=email.attempts)
        else:
            log.warning(event, **fields, attempt=email.attempts, error=str(failure))


async def _unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_mail_delivery(settings: Settings, stop: asyncio.Event) -> None:
    # Opens even while the database is down (infra/db/pool.py).
    pool = await open_pool(settings, min_size=1, max_size=2)
    try:
        await MailDelivery(settings, pool, SmtpSender(settings)).run(stop)
    finally:
        await close_pool(pool, settings.database_command_timeout_seconds)
