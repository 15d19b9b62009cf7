"""A sign-in link, e-mailed through the outbox to the person it signs in.

Like the invitation's e-mail, its subject and preview say nothing of the clinic.
"""

from urllib.parse import quote

from infra.access.web_sessions import LINK_LIFETIME, SignInLink
from infra.db.connection import Connection
from infra.mail.outbox import queue_email
from infra.mail.templates import render_email

SUBJECT = "Your sign-in link"
PREVIEW = "Here is the link you asked for to sign in."


def sign_in_url(public_base_url: str, secret: str) -> str:
    """The page that asks the person to confirm: opening it uses nothing, so a mail scanner that
    follows links cannot spend the link before its person does."""
    return f"{public_base_url.rstrip('/')}/sign-in/link?code={quote(secret, safe='')}"


async def mail_sign_in_link(conn: Connection, link: SignInLink, public_base_url: str) -> bool:
    """Queues the link's e-mail in the caller's transaction; False when e-mail is off."""
    text, html = render_email(
        "sign_in",
        preview=PREVIEW,
        link=sign_in_url(public_base_url, link.secret),
        minutes=int(LINK_LIFETIME.total_seconds() // 60),
    )
    return await queue_email(
        conn,
        dedup_key=f"sign-in:{link.id}",
        clinic_id=link.clinic_id,
        to_address=link.email,
        subject=SUBJECT,
        text=text,
        html=html,
        headers={},
    )
