"""An invitation's code, e-mailed to its user through the outbox, so that it never passes
through the admin or the operator who made it.

The subject and the preview line say nothing of the clinic or of why the person is invited:
whoever glances at an inbox learns no more than that an invitation came.
"""

from urllib.parse import quote
from uuid import UUID

from infra.access.invitations import NewInvitation
from infra.db.connection import Connection
from infra.mail.outbox import queue_email
from infra.mail.templates import render_email

SUBJECT = "Your invitation to sign in"
PREVIEW = "You have been invited to sign in."


def invitation_link(public_base_url: str, code: str) -> str | None:
    """Where the e-mail sends its reader: the app's invitation page, with the code after `#`,
    which browsers never send to a server (so no access log or Referer holds it)."""
    if not public_base_url:
        return None
    return f"{public_base_url.rstrip('/')}/invitation#code={quote(code, safe='')}"


async def mail_invitation(
    conn: Connection, made: NewInvitation, *, clinic_id: UUID, to_address: str, public_base_url: str
) -> bool:
    """Queues the invitation's e-mail to its user's address on `conn`, in the transaction that
    made the invitation; False if e-mail is off, and the code must reach the user another way."""
    text, html = render_email(
        "invitation",
        preview=PREVIEW,
        code=made.code,
        link=invitation_link(public_base_url, made.code),
        expires_at=made.invitation.expires_at,
    )
    return await queue_email(
        conn,
        dedup_key=f"invitation:{made.invitation.id}",
        clinic_id=clinic_id,
        to_address=to_address,
        subject=SUBJECT,
        text=text,
        html=html,
        headers={},
    )
