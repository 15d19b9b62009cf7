"""The e-mail a nudge becomes: a notice that there is something new, a link into the app, and
a one-click unsubscribe. Never what the nudge says, nor which goal it is about: an e-mail's
subject and first line show in lists and on lock screens, and mail passes through servers that
are not the clinic's."""

from dataclasses import dataclass
from uuid import UUID

import structlog

from infra.config import Settings
from infra.db.connection import Connection
from infra.mail.outbox import InvalidEmail, queue_email
from infra.mail.templates import render_email
from infra.nudges.unsubscribe import unsubscribe_token

SUBJECT = "You have a new update from your care team"

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class EmailChannel:
    public_base_url: str
    """Where people reach the app; the API answers under it at /v1."""
    signing_key: str
    """Signs the unsubscribe links."""


def email_channel(settings: Settings) -> EmailChannel | None:
    """E-mail goes out while it is on and people have a link to follow."""
    if not settings.mail_enabled or not settings.public_base_url:
        return None
    return EmailChannel(settings.public_base_url, settings.token_hash_key)


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
    """Queues the nudge's e-mail in the caller's transaction, once per nudge; True when mail
    carries it. False, writing nothing, where the directory holds an address mail cannot use:
    the nudge goes without e-mail, and the other nudges of the batch must still go out."""
    unsubscribe = unsubscribe_link(channel.public_base_url, user_id, channel.signing_key)
    text, html = render_email(
        "nudge",
        preview=SUBJECT,
        link=app_link(channel.public_base_url, nudge_id),
        unsubscribe=unsubscribe,
    )
    try:
        await queue_email(
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
    except InvalidEmail:
        log.warning("nudge_email_undeliverable", nudge_id=str(nudge_id), user_id=str(user_id))
        return False
    # Queued now, or by the same nudge before (a key is queued once): either way mail has it.
    return True
