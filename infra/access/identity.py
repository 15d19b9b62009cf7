"""Clinics, users, tokens and care teams: each change written and recorded in one transaction."""

from datetime import timedelta
from uuid import UUID, uuid4

import msgspec

from domain.access.events import (
    ClinicCreated,
    InvitationWithdrawn,
    TherapistAssigned,
    TherapistUnassigned,
    TokenIssued,
    TokenRevoked,
    UserRegistered,
)
from infra.access import credential_rows, queries
from infra.access.credential_rows import IssuedToken
from infra.access.queries import User
from infra.access.tokens import hash_token, new_token_secret
from infra.db.connection import Connection
from infra.eventstore.audit import record
from infra.eventstore.envelope import Metadata

DEFAULT_GOAL_LIMIT = 5


class EmailTaken(Exception):
    pass


class NewToken(msgspec.Struct, frozen=True):
    token: IssuedToken
    secret: str


def user_stream(user_id: UUID) -> str:
    return f"user-{user_id}"


async def create_clinic(conn: Connection, clinic_id: UUID, name: str, metadata: Metadata) -> None:
    await queries.insert_clinic(conn, clinic_id, name, DEFAULT_GOAL_LIMIT)
    event = ClinicCreated(clinic_id, name, DEFAULT_GOAL_LIMIT)
    await record(conn, f"clinic-{clinic_id}", [event], metadata)


async def register_user(conn: Connection, user: User, metadata: Metadata) -> None:
    if not await queries.insert_user(conn, user):
        raise EmailTaken(user.email)
    event = UserRegistered(
        user.id, user.clinic_id, user.role, user.display_name, user.email, user.time_zone
    )
    await record(conn, user_stream(user.id), [event], metadata)


def acting_for_themself(
    user_id: UUID, role: str, clinic_id: UUID, correlation_id: str
) -> tuple[UUID, Metadata]:
    """A new token's id, and the metadata of what a person does for themself as they get it (an
    invitation redeemed, a sign-in link used): the events are theirs, written with that token."""
    token_id = uuid4()
    metadata = Metadata(
        actor_id=user_id,
        actor_role=role,
        clinic_id=clinic_id,
        correlation_id=correlation_id,
        token_id=token_id,
    )
    return token_id, metadata


async def issue_token(
    conn: Connection,
    *,
    token_id: UUID,
    user_id: UUID,
    lifetime: timedelta,
    hash_key: str,
    metadata: Metadata,
    parent_id: UUID | None = None,
    issued_by: UUID | None = None,
    invitation_id: UUID | None = None,
) -> NewToken:
    """A token for the user, which lives `lifetime` at most: never longer than the clinic allows,
    nor than its parent. A token is a descendant of its parent and all of its parent's
    ancestors, so revoking any of them revokes it (`revoke_token`)."""
    secret = new_token_secret()
    issued = await credential_rows.insert_token(
        conn,
        credential_rows.TokenRequest(
            token_id, user_id, lifetime, parent_id, issued_by, invitation_id
        ),
        hash_token(secret, hash_key),
    )
    event = TokenIssued(token_id, user_id, issued.expires_at, parent_id, issued_by, invitation_id)
    await record(conn, user_stream(user_id), [event], metadata)
    return NewToken(issued, secret)


async def revoke_token(
    conn: Connection, token_id: UUID, owner_id: UUID, metadata: Metadata
) -> list[UUID]:
    """Revokes the token and every token descended from it; the ids of those it revoked."""
    revoked = await credential_rows.revoke_token_tree(conn, token_id)
    events = [
        TokenRevoked(revoked_id, owner_id, None if revoked_id == token_id else token_id)
        for revoked_id in revoked
    ]
    if events:
        await record(conn, user_stream(owner_id), events, metadata)
    return revoked


async def revoke_all_tokens(conn: Connection, user_id: UUID, metadata: Metadata) -> list[UUID]:
    """Revokes every live token of the user and withdraws their pending invitations."""
    revoked = await credential_rows.revoke_tokens_of(conn, user_id)
    withdrawn = await credential_rows.withdraw_invitations_of(conn, user_id)
    events: list[msgspec.Struct] = [TokenRevoked(token_id, user_id) for token_id in revoked]
    events += [InvitationWithdrawn(invitation_id, user_id) for invitation_id in withdrawn]
    if events:
        await record(conn, user_stream(user_id), events, metadata)
    return revoked


async def assign_therapist(
    conn: Connection, client_id: UUID, therapist_id: UUID, metadata: Metadata
) -> bool:
    """False if the therapist was already on the client's care team (nothing recorded)."""
    if not await queries.assign_therapist(conn, client_id, therapist_id):
        return False
    event = TherapistAssigned(client_id, therapist_id)
    await record(conn, f"care-team-{client_id}", [event], metadata)
    return True


async def unassign_therapist(
    conn: Connection, client_id: UUID, therapist_id: UUID, metadata: Metadata
) -> bool:
    """False if the therapist was not on the client's care team."""
    if not await queries.unassign_therapist(conn, client_id, therapist_id):
        return False
    event = TherapistUnassigned(client_id, therapist_id)
    await record(conn, f"care-team-{client_id}", [event], metadata)
    return True
