"""The e-mail a nudge becomes: a notice that there is something new, a link into the app, and
a one-click unsubscribe. Never what the nudge says, nor which goal it is about: an e-mail's
subject and first line show in lists and on lock screens, and mail passes through servers that
are not the clinic's."""

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from infra.db.connection import Connection
from infra.nudges.unsubscribe import unsubscribe_token

SUBJECT = "You have a new update from your care team"


class QueueEmail(Protocol):
    """The outbox's `queue_email`: queues in the caller's transaction; False if `dedup_key` was
    queued before, or e-mail is off."""

    def __call__(
        self,
        conn: Connection,
        *,
        dedup_key: str,
        clinic_id: UUID,
        to_address: str,
        subject: str,
        text: str,
        html: str | None,
        headers: dict[str, str],
    ) -> Awaitable[bool]: ...


@dataclass(frozen=True)
class EmailChannel:
    queue: QueueEmail
    public_base_url: str
    """Where people reach the app; the API answers under it at /v1."""
    signing_key: str


def app_link(base_url: str, nudge_id: UUID) -> str:
    return f"{base_url.rstrip('/')}/nudges/{nudge_id}"


def unsubscribe_link(base_url: str, user_id: UUID, key: str) -> str:
    return f"{base_url.rstrip('/')}/v1/unsubscribe/{unsubscribe_token(user_id, key)}"


async def queue_nudge_email(
    conn: Connection,
    channel: EmailChannel,
    *,
    nudge_id: UUID,
    clinic_id: UUID,
    user_id: UUID,
    to_address: str,
) -> bool:
    """Queues the nudge's e-mail in the caller's transaction, once per nudge."""
    link = app_link(channel.public_base_url, nudge_id)
    unsubscribe = unsubscribe_link(channel.public_base_url, user_id, channel.signing_key)
    text = (
        f"{SUBJECT}.\n\nOpen it in the app: {link}\n\nTo stop these e-mails, open: {unsubscribe}\n"
    )
    html = (
        f'<p>{SUBJECT}.</p>\n<p><a href="{link}">Open it in the app</a></p>\n'
        f'<p style="font-size:small"><a href="{unsubscribe}">Stop these e-mails</a></p>\n'
    )
    return await channel.queue(
        conn,
        dedup_key=f"nudge:{nudge_id}",
        clinic_id=clinic_id,
        to_address=to_address,
        subject=SUBJECT,
        text=text,
        html=html,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
