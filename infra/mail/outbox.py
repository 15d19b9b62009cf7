"""The e-mail outbox: an e-mail is a row written in the transaction of what it tells of, and
the worker service's mail delivery (services/worker/mail.py) sends it.

This is a transport and knows nothing of what an e-mail says. Callers keep health information
out of the subject and of the first line of the text (the preview that mail clients show in a
list): "You have a new update from your care team", and a link into the app.

E-mail is off while `SMTP_HOST` is unset: `queue_email` then writes nothing and returns False,
as it does for a key already queued, so that no backlog of stale e-mail (invitations long
withdrawn, reminders for weeks gone by) goes out on the day it is switched on. Whether it is on
is the process's setting (`get_settings()`), which every caller in a process shares, not a
parameter of each call.
"""

import re
import uuid
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import parseaddr
from uuid import UUID

import msgspec

from infra.config import get_settings
from infra.db.connection import Connection

# Headers the transport writes itself, from the row: a caller cannot send an e-mail elsewhere
# (Bcc), under another name, or break its structure.
RESERVED_HEADERS = frozenset(
    {
        "from",
        "sender",
        "to",
        "cc",
        "bcc",
        "subject",
        "message-id",
        "date",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "return-path",
    }
)
MAX_SUBJECT_LENGTH = 200
# RFC 5322: a field name is printable ASCII without a colon; a value may not break its line.
_FIELD_NAME = re.compile(r"[!-9;-~]{1,76}")
_ONE_LINE = re.compile(r"[^\x00-\x1f\x7f]*")


class InvalidEmail(ValueError):
    """An e-mail the transport refuses to queue: a bug in its caller, never the user's input."""


_QUEUE = """
INSERT INTO email_outbox
    (id, dedup_key, clinic_id, to_address, subject, body_text, body_html, headers, message_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
ON CONFLICT (dedup_key) DO NOTHING
RETURNING true
"""


async def queue_email(
    conn: Connection,
    *,
    dedup_key: str,
    clinic_id: UUID,
    to_address: str,
    subject: str,
    text: str,
    html: str | None,
    headers: dict[str, str],
) -> bool:
    """Queues the e-mail on `conn`, in the caller's transaction if it has one: it goes out once
    that commits, and never if it rolls back. False, writing nothing, if an e-mail with this
    `dedup_key` was queued before (however long ago) or e-mail is off.

    Raises InvalidEmail for an address that is not one, or a subject or header that would break
    out of its line or replace one the transport writes."""
    settings = get_settings()
    if not settings.mail_enabled:
        return False
    _check(to_address, subject, headers)
    email_id = uuid.uuid4()
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2]
    queued = await conn.fetchval(
        _QUEUE,
        email_id,
        dedup_key,
        clinic_id,
        to_address,
        subject,
        text,
        html,
        msgspec.json.encode(headers).decode(),
        f"<{email_id}@{domain}>",
    )
    return bool(queued)


def _check(to_address: str, subject: str, headers: dict[str, str]) -> None:
    try:
        Address(addr_spec=to_address)
    except (ValueError, IndexError, HeaderParseError) as error:  # each, for some bad address
        # Not naming it: the message may reach a log, and an address is personal.
        raise InvalidEmail("the recipient is not an address e-mail can be sent to") from error
    if not subject or len(subject) > MAX_SUBJECT_LENGTH or not _ONE_LINE.fullmatch(subject):
        raise InvalidEmail(f"a subject is one line of 1 to {MAX_SUBJECT_LENGTH} characters")
    for name, value in headers.items():
        if not _FIELD_NAME.fullmatch(name) or name.lower() in RESERVED_HEADERS:
            raise InvalidEmail(f"the header {name!r} cannot be set by a caller")
        if not _ONE_LINE.fullmatch(value):
            raise InvalidEmail(f"the header {name!r} must be one line")
