"""A clinic's people and settings as its admins manage them: finding users, changing their
details, deactivating them, and the clinic's own settings. Every change is recorded in the log
in the same transaction as the rows it changes."""

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from domain.access.events import (
    ClinicSettingsChanged,
    TherapistUnassigned,
    UserDeactivated,
    UserDetailsChanged,
)
from domain.goals.terms import Role
from infra.access import identity
from infra.access.identity import EmailTaken, user_stream
from infra.access.queries import User
from infra.db.connection import Connection
from infra.eventstore.audit import record
from infra.eventstore.envelope import Metadata


class ClinicSettings(msgspec.Struct, frozen=True):
    active_goal_limit: int
    default_time_zone: str
    max_token_lifetime_days: int


class DirectoryEntry(msgspec.Struct, frozen=True):
    user: User
    deactivated_at: datetime | None


class LastAdmin(Exception):
    """The clinic would be left without an active admin."""


_ENTRY_COLUMNS = "id, clinic_id, role, display_name, email, time_zone, created_at, deactivated_at"


def _entry(row: asyncpg.Record) -> DirectoryEntry:
    values = dict(row)
    deactivated_at = values.pop("deactivated_at")
    return DirectoryEntry(User(**values), deactivated_at)


async def entry(conn: Connection, clinic_id: UUID, user_id: UUID) -> DirectoryEntry | None:
    row = await conn.fetchrow(
        f"SELECT {_ENTRY_COLUMNS} FROM users WHERE id = $1 AND clinic_id = $2",  # noqa: S608
        user_id,
        clinic_id,
    )
    return None if row is None else _entry(row)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def find_users(
    conn: Connection,
    clinic_id: UUID,
    *,
    role: Role | None,
    search: str | None,
    active: bool | None,
    after: tuple[str, UUID] | None,
    limit: int,
) -> list[DirectoryEntry]:
    """The clinic's users in order of (display name, id), after the last one seen."""
    rows = await conn.fetch(
        f"""
        SELECT {_ENTRY_COLUMNS} FROM users
        WHERE clinic_id = $1
            AND ($2::text IS NULL OR role = $2)
            AND ($3::text IS NULL OR display_name ILIKE $3 OR email ILIKE $3)
            AND ($4::boolean IS NULL OR (deactivated_at IS NULL) = $4)
            AND ($5::text IS NULL OR (display_name, id) > ($5, $6::uuid))
        ORDER BY display_name, id
        LIMIT $7
        """,  # noqa: S608 - a constant column list
        clinic_id,
        role,
        None if search is None else _like(search),
        active,
        None if after is None else after[0],
        None if after is None else after[1],
        limit,
    )
    return [_entry(row) for row in rows]


async def change_details(conn: Connection, user: User, metadata: Metadata) -> None:
    """Gives the user these details (the id and clinic name whom)."""
    try:
        await conn.execute(
            """
            UPDATE users SET display_name = $3, email = $4, time_zone = $5
            WHERE id = $1 AND clinic_id = $2
            """,
            user.id,
            user.clinic_id,
            user.display_name,
            user.email,
            user.time_zone,
        )
    except asyncpg.UniqueViolationError:
        raise EmailTaken(user.email) from None
    event = UserDetailsChanged(user.id, user.display_name, user.email, user.time_zone)
    await record(conn, user_stream(user.id), [event], metadata)


async def deactivate(conn: Connection, user: User, metadata: Metadata) -> bool:
    """Deactivates the user: their credentials are revoked and, for a therapist, they leave
    every care team. False if they were deactivated already."""
    # Two admins deactivating each other at once must not leave the clinic with none.
    await conn.execute("SELECT FROM clinics WHERE id = $1 FOR NO KEY UPDATE", user.clinic_id)
    if user.role == "admin":
        others = await conn.fetchval(
            """
            SELECT count(*) FROM users
            WHERE clinic_id = $1 AND role = 'admin' AND id <> $2 AND deactivated_at IS NULL
            """,
            user.clinic_id,
            user.id,
        )
        if not others:
            raise LastAdmin(user.id)
    done = await conn.fetchval(
        """
        UPDATE users SET deactivated_at = now()
        WHERE id = $1 AND deactivated_at IS NULL RETURNING 1
        """,
        user.id,
    )
    if done is None:
        return False
    await record(conn, user_stream(user.id), [UserDeactivated(user.id)], metadata)
    await identity.revoke_all_tokens(conn, user.id, metadata)
    if user.role == "therapist":
        clients = await conn.fetch(
            "DELETE FROM care_team WHERE therapist_id = $1 RETURNING client_id", user.id
        )
        for row in sorted(clients, key=lambda row: row["client_id"]):
            left = TherapistUnassigned(row["client_id"], user.id)
            await record(conn, f"care-team-{row['client_id']}", [left], metadata)
    return True


async def is_active(conn: Connection, user_id: UUID) -> bool:
    return bool(
        await conn.fetchval("SELECT deactivated_at IS NULL FROM users WHERE id = $1", user_id)
    )


async def clinic_settings(conn: Connection, clinic_id: UUID) -> ClinicSettings:
    row = await conn.fetchrow(
        """
        SELECT active_goal_limit, default_time_zone, max_token_lifetime_days
        FROM clinics WHERE id = $1
        """,
        clinic_id,
    )
    if row is None:
        raise LookupError(clinic_id)
    return ClinicSettings(**dict(row))


async def change_clinic_settings(
    conn: Connection, clinic_id: UUID, settings: ClinicSettings, metadata: Metadata
) -> None:
    await conn.execute(
        """
        UPDATE clinics
        SET active_goal_limit = $2, default_time_zone = $3, max_token_lifetime_days = $4
        WHERE id = $1
        """,
        clinic_id,
        settings.active_goal_limit,
        settings.default_time_zone,
        settings.max_token_lifetime_days,
    )
    event = ClinicSettingsChanged(
        clinic_id,
        settings.active_goal_limit,
        settings.default_time_zone,
        settings.max_token_lifetime_days,
    )
    await record(conn, f"clinic-{clinic_id}", [event], metadata)
