"""Invitations: how a person gets their first token without anyone else ever holding it.

An admin invites a user; the invitation's code goes to the user by e-mail
(infra/access/invitation_mail.py) or, while e-mail is off, through the admin or the operator's
command line, and only a redemption of the code, which needs no other credential, turns it into
a token, once. A code is short-lived, is kept only as a keyed hash (its e-mail's body, once
sent, is dropped), and a newer invitation for the same user withdraws the older one.
"""

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from domain.access.events import InvitationCreated, InvitationRedeemed, InvitationWithdrawn
from domain.goals.terms import Role
from infra.access import credential_rows, identity
from infra.access.identity import NewToken, user_stream
from infra.access.tokens import hash_token
from infra.db.connection import Connection
from infra.eventstore.audit import record
from infra.eventstore.envelope import Metadata

CODE_PREFIX = "tgi_"
INVITATION_LIFETIME = timedelta(hours=72)


class Invitation(msgspec.Struct, frozen=True):
    id: UUID
    user_id: UUID
    expires_at: datetime


class NewInvitation(msgspec.Struct, frozen=True):
    invitation: Invitation
    code: str


class Redeemed(msgspec.Struct, frozen=True):
    token: NewToken
    role: Role
    clinic_id: UUID


async def invite(
    conn: Connection,
    user_id: UUID,
    *,
    invited_by: UUID | None,
    hash_key: str,
    metadata: Metadata,
    lifetime: timedelta = INVITATION_LIFETIME,
) -> NewInvitation:
    """A fresh invitation for the user; any earlier one they have not redeemed is withdrawn."""
    withdrawn = await credential_rows.withdraw_invitations_of(conn, user_id)
    invitation = Invitation(uuid.uuid4(), user_id, datetime.now(UTC) + lifetime)
    code = CODE_PREFIX + secrets.token_urlsafe(32)
    await conn.execute(
        """
        INSERT INTO invitations (id, user_id, code_hash, created_by, expires_at)
        VALUES ($1, $2, $3, $4, $5)
        """,
        invitation.id,
        user_id,
        hash_token(code, hash_key),
        invited_by,
        invitation.expires_at,
    )
    events: list[msgspec.Struct] = [InvitationWithdrawn(earlier, user_id) for earlier in withdrawn]
    events.append(InvitationCreated(invitation.id, user_id, invitation.expires_at))
    await record(conn, user_stream(user_id), events, metadata)
    return NewInvitation(invitation, code)


# Single use: the update takes the row, so a second redemption of the same code, at the same
# moment or later, finds it redeemed.
_REDEEM = """
UPDATE invitations i SET redeemed_at = now()
FROM users u
WHERE i.code_hash = $1 AND u.id = i.user_id AND u.deactivated_at IS NULL
    AND i.redeemed_at IS NULL AND i.withdrawn_at IS NULL AND i.expires_at > now()
RETURNING i.id, i.user_id, i.created_by, u.clinic_id, u.role
"""


async def redeem(
    conn: Connection, code: str, *, lifetime: timedelta, hash_key: str, correlation_id: str
) -> Redeemed | None:
    """The invited user's new token; None if the code is unknown, used, withdrawn or expired,
    or its user deactivated."""
    row = await conn.fetchrow(_REDEEM, hash_token(code, hash_key))
    if row is None:
        return None
    token_id, metadata = identity.acting_for_themself(
        row["user_id"], row["role"], row["clinic_id"], correlation_id
    )
    issued = await identity.issue_token(
        conn,
        token_id=token_id,
        user_id=row["user_id"],
        lifetime=lifetime,
        hash_key=hash_key,
        metadata=metadata,
        issued_by=row["created_by"],
        invitation_id=row["id"],
    )
    redeemed = InvitationRedeemed(row["id"], row["user_id"], token_id)
    await record(conn, user_stream(row["user_id"]), [redeemed], metadata)
    return Redeemed(issued, row["role"], row["clinic_id"])
