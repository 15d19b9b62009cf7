"""Reads and writes of clinics, users, care teams and tokens (migration 0002)."""

from datetime import datetime
from uuid import UUID

import msgspec

from domain.access.policy import Caller
from domain.goals.terms import Role
from infra.db.connection import Connection


class User(msgspec.Struct, frozen=True):
    id: UUID
    clinic_id: UUID
    role: Role
    display_name: str
    email: str
    time_zone: str
    created_at: datetime


_USER_COLUMNS = "id, clinic_id, role, display_name, email, time_zone, created_at"


def live_token_holder(secret_hash: str) -> str:
    """A query for the user whose live token hashes to the value of the SQL expression
    `secret_hash`, as (id, clinic_id, role, token_id).

    Live: neither the token nor any token it descends from is revoked or expired, the token is
    no older than its clinic's longest lifetime allows today, and its user is not deactivated.
    Revoking a token also marks its descendants; looking at the ancestors here as well means no
    descendant authenticates even while that revocation is still being written.
    """
    return f"""
    SELECT u.id, u.clinic_id, u.role, t.id AS token_id
    FROM access_tokens t
    JOIN users u ON u.id = t.user_id
    JOIN clinics c ON c.id = u.clinic_id
    WHERE t.secret_hash = {secret_hash} AND t.revoked_at IS NULL AND t.expires_at > now()
        AND u.deactivated_at IS NULL
        AND t.created_at + make_interval(days => c.max_token_lifetime_days) > now()
        AND NOT EXISTS (
            SELECT FROM access_tokens a
            WHERE a.id = ANY (t.ancestors) AND (a.revoked_at IS NOT NULL OR a.expires_at <= now())
        )
    """  # noqa: S608 - the expression is the caller's constant, never input


_CALLER_FOR_TOKEN = live_token_holder("$1")


async def caller_for_token(conn: Connection, secret_hash: bytes) -> Caller | None:
    """The user a live token belongs to, and the token."""
    row = await conn.fetchrow(_CALLER_FOR_TOKEN, secret_hash)
    return (
        None if row is None else Caller(row["id"], row["clinic_id"], row["role"], row["token_id"])
    )


async def insert_clinic(conn: Connection, clinic_id: UUID, name: str, goal_limit: int) -> None:
    await conn.execute(
        "INSERT INTO clinics (id, name, active_goal_limit) VALUES ($1, $2, $3)",
        clinic_id,
        name,
        goal_limit,
    )


async def active_goal_limit(conn: Connection, clinic_id: UUID) -> int:
    return int(
        await conn.fetchval("SELECT active_goal_limit FROM clinics WHERE id = $1", clinic_id)
    )


async def insert_user(conn: Connection, user: User) -> bool:
    """False if the clinic already has a user with this email."""
    inserted = await conn.fetchval(
        f"""
        INSERT INTO users ({_USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT ON CONSTRAINT users_email_per_clinic DO NOTHING RETURNING 1
        """,  # noqa: S608 - a constant column list
        user.id,
        user.clinic_id,
        user.role,
        user.display_name,
        user.email,
        user.time_zone,
        user.created_at,
    )
    return inserted is not None


async def user_in_clinic(conn: Connection, clinic_id: UUID, user_id: UUID) -> User | None:
    row = await conn.fetchrow(
        f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1 AND clinic_id = $2",  # noqa: S608
        user_id,
        clinic_id,
    )
    return None if row is None else User(*row)


async def users_by_id(conn: Connection, user_ids: list[UUID]) -> dict[UUID, User]:
    rows = await conn.fetch(
        f"SELECT {_USER_COLUMNS} FROM users WHERE id = ANY($1::uuid[])",  # noqa: S608
        user_ids,
    )
    return {row[0]: User(*row) for row in rows}


class ClientCare(msgspec.Struct, frozen=True):
    clinic_id: UUID
    """As stored for the client, so that the access policy checks it a second time."""
    therapists: frozenset[UUID]


async def care_of_client(conn: Connection, clinic_id: UUID, client_id: UUID) -> ClientCare | None:
    """The clinic and therapists of a client of the clinic; None if it has no such client."""
    row = await conn.fetchrow(
        """
        SELECT u.clinic_id, array(SELECT therapist_id FROM care_team WHERE client_id = u.id)
            AS therapists
        FROM users u WHERE u.id = $1 AND u.clinic_id = $2 AND u.role = 'client'
        """,
        client_id,
        clinic_id,
    )
    return None if row is None else ClientCare(row["clinic_id"], frozenset(row["therapists"]))


async def assign_therapist(conn: Connection, client_id: UUID, therapist_id: UUID) -> bool:
    """False if the therapist was already assigned."""
    inserted = await conn.fetchval(
        """
        INSERT INTO care_team (client_id, therapist_id) VALUES ($1, $2)
        ON CONFLICT DO NOTHING RETURNING 1
        """,
        client_id,
        therapist_id,
    )
    return inserted is not None


async def unassign_therapist(conn: Connection, client_id: UUID, therapist_id: UUID) -> bool:
    """False if the therapist was not assigned."""
    deleted = await conn.fetchval(
        "DELETE FROM care_team WHERE client_id = $1 AND therapist_id = $2 RETURNING 1",
        client_id,
        therapist_id,
    )
    return deleted is not None


async def clients_of(conn: Connection, therapist_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT client_id FROM care_team WHERE therapist_id = $1 ORDER BY assigned_at",
        therapist_id,
    )
    return [row[0] for row in rows]
