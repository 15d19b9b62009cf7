"""Starting a clinic: the clinic, its first admin, and the admin's first token; and what a
clinic sets for the goals set in it."""

import uuid
from datetime import UTC, datetime, timedelta

import msgspec

from domain.access.people import clinic_name, normal_email
from infra.access import identity
from infra.access.identity import NewToken
from infra.access.invitations import NewInvitation, invite
from infra.access.queries import User
from infra.db.connection import Connection
from infra.eventstore.envelope import Metadata

FIRST_TOKEN_LIFETIME = timedelta(days=30)


class GoalBounds(msgspec.Struct, frozen=True):
    """What a clinic sets for a new goal."""

    opened_at: datetime
    """When the clinic came to the service: a goal may start up to a year before."""
    active_goal_limit: int
    """Active goals before a new one comes with a warning."""


async def goal_bounds(conn: Connection, clinic_id: uuid.UUID) -> GoalBounds:
    row = await conn.fetchrow(
        "SELECT created_at, active_goal_limit FROM clinics WHERE id = $1", clinic_id
    )
    if row is None:
        raise LookupError(f"no clinic {clinic_id}")
    return GoalBounds(opened_at=row["created_at"], active_goal_limit=row["active_goal_limit"])


def system_metadata(correlation_id: str) -> Metadata:
    return Metadata(
        actor_id=None, actor_role="system", clinic_id=None, correlation_id=correlation_id
    )


async def start_clinic(
    conn: Connection, name: str, admin_email: str, hash_key: str
) -> tuple[User, NewToken]:
    """Raises InvalidDetail (domain/access/people.py) for a name or email the API would refuse."""
    name, admin_email = clinic_name(name), normal_email(admin_email)
    clinic_id = uuid.uuid4()
    metadata = system_metadata(f"create-clinic-{clinic_id}")
    await identity.create_clinic(conn, clinic_id, name, metadata)
    admin = User(
        uuid.uuid4(), clinic_id, "admin", "Clinic admin", admin_email, "UTC", datetime.now(UTC)
    )
    await identity.register_user(conn, admin, metadata)
    token = await identity.issue_token(
        conn,
        token_id=uuid.uuid4(),
        user_id=admin.id,
        lifetime=FIRST_TOKEN_LIFETIME,
        hash_key=hash_key,
        metadata=metadata,
    )
    return admin, token


async def invite_by_email(
    conn: Connection, clinic_id: uuid.UUID, email: str, hash_key: str
) -> NewInvitation:
    """An invitation made by the operator (no admin's name on it) for a user of the clinic."""
    email = normal_email(email)
    user_id = await conn.fetchval(
        "SELECT id FROM users WHERE clinic_id = $1 AND email = $2 AND deactivated_at IS NULL",
        clinic_id,
        email,
    )
    if user_id is None:
        raise LookupError(f"the clinic {clinic_id} has no active user with the email {email}")
    return await invite(
        conn,
        user_id,
        invited_by=None,
        hash_key=hash_key,
        metadata=system_metadata(f"invite-{user_id}"),
    )
