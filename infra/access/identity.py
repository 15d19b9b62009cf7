"""Clinics, users, tokens and care teams: each change written and recorded in one transaction."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from domain.access.events import (
    ClinicCreated,
    TherapistAssigned,
    TherapistUnassigned,
    TokenIssued,
    TokenRevoked,
    UserRegistered,
)
from infra.access import queries
from infra.access.queries import IssuedToken, User
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


async def issue_token(
    conn: Connection,
    *,
    token_id: UUID,
    user_id: UUID,
    lifetime: timedelta,
    hash_key: str,
    metadata: Metadata,
) -> NewToken:
    secret = new_token_secret()
    expires_at = datetime.now(UTC) + lifetime
    await queries.insert_token(conn, token_id, user_id, hash_token(secret, hash_key), expires_at)
    await record(conn, user_stream(user_id), [TokenIssued(token_id, user_id, expires_at)], metadata)
    return NewToken(IssuedToken(token_id, user_id, expires_at), secret)


async def revoke_token(
    conn: Connection, token_id: UUID, owner_id: UUID, metadata: Metadata
) -> None:
    await queries.revoke_token(conn, token_id)
    await record(conn, user_stream(owner_id), [TokenRevoked(token_id, owner_id)], metadata)


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
