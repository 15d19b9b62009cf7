"""Taking e-mail from the outbox and recording how its sending went.

A sender claims one due e-mail at a time with a lease: in one short transaction it takes a row
no other sender holds (`FOR UPDATE SKIP LOCKED`), counts the attempt, and moves the row's
`next_attempt_at` to the lease's end, which hides it from every other sender until then. It
sends with no transaction open (an SMTP conversation may take seconds), then records the
outcome, only if it still holds the claim: sent; failed for good; or due again after a backoff.

Why a lease and not a row lock held through the send: a lock lives as long as a transaction,
which PostgreSQL ends after `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS`, and a database that
restarts mid-send would release it at once; either way a second sender would take an e-mail the
first was still sending. A lease ends only at its time, and a sender's send is cut at
`SMTP_TIMEOUT_SECONDS`, shorter than the lease.

What this promises: an e-mail whose queuing committed is tried until it is sent or given up on,
whatever crashes meanwhile, since the row stays pending until an outcome is recorded. Each is
sent once, save in one case: a sender that dies (or loses PostgreSQL for longer than its lease)
after the SMTP server accepted the e-mail and before the row says so; the e-mail then goes out
again after the lease, with the same Message-ID, by which a receiver may drop the copy.
"""

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from uuid import UUID

import msgspec

from infra.db.connection import Connection


class ClaimedEmail(msgspec.Struct, frozen=True):
    id: UUID
    message_id: str
    to_address: str
    subject: str
    text: str
    html: str | None
    headers: dict[str, str]
    attempts: int
    """This attempt's number, from 1."""


_CLAIM = """
UPDATE email_outbox
SET attempts = attempts + 1, claimed_by = $1, last_attempt_at = now(),
    next_attempt_at = now() + make_interval(secs => $2)
WHERE id = (SELECT id FROM email_outbox
            WHERE status = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at
            LIMIT 1
            FOR UPDATE SKIP LOCKED)
RETURNING id, message_id, to_address, subject, body_text, body_html, headers::text, attempts
"""


async def claim_due(conn: Connection, sender_id: UUID, lease_seconds: float) -> ClaimedEmail | None:
    """The e-mail due longest, now held by `sender_id` for `lease_seconds`; None if none is due."""
    row = await conn.fetchrow(_CLAIM, sender_id, lease_seconds)
    if row is None:
        return None
    return ClaimedEmail(
        id=row["id"],
        message_id=row["message_id"],
        to_address=row["to_address"],
        subject=row["subject"],
        text=row["body_text"],
        html=row["body_html"],
        headers=msgspec.json.decode(row["headers"], type=dict[str, str]),
        attempts=row["attempts"],
    )


_SENT = """
UPDATE email_outbox
SET status = 'sent', sent_at = now(), claimed_by = NULL, body_text = NULL, body_html = NULL
WHERE id = $1 AND claimed_by = $2 AND status = 'pending'
RETURNING true
"""
_RETRY = """
UPDATE email_outbox
SET last_error = $3, next_attempt_at = now() + make_interval(secs => $4), claimed_by = NULL
WHERE id = $1 AND claimed_by = $2 AND status = 'pending'
RETURNING true
"""
_FAILED = """
UPDATE email_outbox
SET status = 'failed', last_error = $3, claimed_by = NULL, body_text = NULL, body_html = NULL
WHERE id = $1 AND claimed_by = $2 AND status = 'pending'
RETURNING true
"""


async def record_sent(conn: Connection, email_id: UUID, sender_id: UUID) -> bool:
    """Marks the e-mail sent; False if `sender_id` no longer held it (its lease ran out)."""
    return bool(await conn.fetchval(_SENT, email_id, sender_id))


async def record_retry(
    conn: Connection, email_id: UUID, sender_id: UUID, error: str, after_seconds: float
) -> bool:
    return bool(await conn.fetchval(_RETRY, email_id, sender_id, error, after_seconds))


async def record_failed(conn: Connection, email_id: UUID, sender_id: UUID, error: str) -> bool:
    return bool(await conn.fetchval(_FAILED, email_id, sender_id, error))


def message_of(email: ClaimedEmail, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = email.message_id
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


class MailCounts(msgspec.Struct, frozen=True):
    pending: int
    oldest_due_seconds: float
    """How long the e-mail due longest has waited past its time; 0 when none is due."""
    failed: int


async def mail_counts(conn: Connection) -> MailCounts:
    row = await conn.fetchrow(
        """
        SELECT (SELECT count(*) FROM email_outbox WHERE status = 'pending') AS pending,
               (SELECT coalesce(extract(epoch FROM now() - min(next_attempt_at)), 0)
                FROM email_outbox
                WHERE status = 'pending' AND next_attempt_at <= now()) AS oldest_due,
               (SELECT count(*) FROM email_outbox WHERE status = 'failed') AS failed
        """
    )
    assert row is not None  # noqa: S101 - a SELECT without FROM returns one row
    return MailCounts(int(row["pending"]), float(row["oldest_due"]), int(row["failed"]))
