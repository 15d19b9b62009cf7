"""Sign-in links and web sessions (migration 0018).

A web session is an access token whose secret lives only in the person's HttpOnly cookie: pages
prove the caller exactly as the API does (infra/access/queries.py `live_token_holder`), so a
revoked session, an expired one, or one whose person was deactivated stops working on the very
next request. `web_sessions` records which tokens are sessions, so that signing out everywhere
ends those and leaves the person's API tokens alone.

A sign-in link carries a secret of its own, kept only as a keyed hash, usable once, for
`LINK_LIFETIME`; using it opens a session.
"""

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

import msgspec

from infra.access import identity
from infra.access.identity import NewToken
from infra.access.tokens import hash_token
from infra.db.connection import Connection
from infra.eventstore.envelope import Metadata

LINK_PREFIX = "tgl_"
LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)

OpenedBy = Literal["sign_in_link", "invitation"]


class SignInLink(msgspec.Struct, frozen=True):
    id: UUID
    user_id: UUID
    clinic_id: UUID
    email: str
    secret: str
    expires_at: datetime


async def new_links_for(conn: Connection, email: str, hash_key: str) -> list[SignInLink]:
    """A fresh link for each active person with this (normalised) e-mail address: one address
    may belong to people of several clinics. None for an address nobody active has."""
    people = await conn.fetch(
        "SELECT id FROM users WHERE email = $1 AND deactivated_at IS NULL", email
    )
    return [await new_link(conn, person["id"], hash_key) for person in people]


async def new_link(conn: Connection, user_id: UUID, hash_key: str) -> SignInLink:
    """A fresh sign-in link for the person, good for one use within LINK_LIFETIME."""
    row = await conn.fetchrow("SELECT clinic_id, email FROM users WHERE id = $1", user_id)
    if row is None:
        raise LookupError(f"no user {user_id}")
    link = SignInLink(
        uuid.uuid4(),
        user_id,
        row["clinic_id"],
        row["email"],
        LINK_PREFIX + secrets.token_urlsafe(32),
        datetime.now(UTC) + LINK_LIFETIME,
    )
    await conn.execute(
        "INSERT INTO sign_in_links (id, user_id, secret_hash, expires_at) VALUES ($1, $2, $3, $4)",
        link.id,
        link.user_id,
        hash_token(link.secret, hash_key),
        link.expires_at,
    )
    return link


# Single use: the update takes the row, so a second use, at the same moment or later, finds it
# used.
_USE_LINK = """
UPDATE sign_in_links l SET used_at = now()
FROM users u
WHERE l.secret_hash = $1 AND u.id = l.user_id AND u.deactivated_at IS NULL
    AND l.used_at IS NULL AND l.expires_at > now()
RETURNING u.id, u.clinic_id, u.role
"""


async def session_from_link(
    conn: Connection, secret: str, *, hash_key: str, correlation_id: str
) -> NewToken | None:
    """A new session for the link's person; None if the link is unknown, used, expired, or its
    person deactivated. Call it in a transaction: the link is used only if the session opens."""
    row = await conn.fetchrow(_USE_LINK, hash_token(secret, hash_key))
    if row is None:
        return None
    token_id, metadata = identity.acting_for_themself(
        row["id"], row["role"], row["clinic_id"], correlation_id
    )
    issued = await identity.issue_token(
        conn,
        token_id=token_id,
        user_id=row["id"],
        lifetime=SESSION_LIFETIME,
        hash_key=hash_key,
        metadata=metadata,
    )
    await record_session(conn, issued, "sign_in_link")
    return issued


async def record_session(conn: Connection, issued: NewToken, opened_by: OpenedBy) -> None:
    await conn.execute(
        "INSERT INTO web_sessions (token_id, user_id, opened_by) VALUES ($1, $2, $3)",
        issued.token.id,
        issued.token.user_id,
        opened_by,
    )


async def end_sessions_of(conn: Connection, user_id: UUID, metadata: Metadata) -> list[UUID]:
    """Revokes every live web session of the person; the tokens revoked."""
    live = await conn.fetch(
        """
        SELECT s.token_id FROM web_sessions s JOIN access_tokens t ON t.id = s.token_id
        WHERE s.user_id = $1 AND t.revoked_at IS NULL
        """,
        user_id,
    )
    ended: list[UUID] = []
    for row in live:
        ended += await identity.revoke_token(conn, row["token_id"], user_id, metadata)
    return ended
