"""Reading and keeping each person's notification preferences (migration 0010). Someone who
never chose has the defaults, without a row."""

from uuid import UUID

import asyncpg

from domain.nudges.events import NotificationPreferencesChanged
from domain.nudges.preferences import Preferences
from infra.access.identity import user_stream
from infra.db.connection import Connection
from infra.eventstore.audit import record
from infra.eventstore.envelope import Metadata

PREFERENCE_COLUMNS = (
    "p.quiet_start, p.quiet_end, p.daily_cap, p.reminder_time, p.in_app, p.email, p.muted_goals"
)
"""The columns `preferences_of` reads, from `notification_preferences p` (left-joined: all
null for someone who never chose), beside the user's `time_zone`."""


def preferences_of(row: asyncpg.Record) -> Preferences:
    if row["daily_cap"] is None:
        return Preferences(time_zone=row["time_zone"])
    return Preferences(
        time_zone=row["time_zone"],
        quiet_start=row["quiet_start"],
        quiet_end=row["quiet_end"],
        daily_cap=row["daily_cap"],
        reminder_time=row["reminder_time"],
        in_app=row["in_app"],
        email=row["email"],
        muted_goals=frozenset(row["muted_goals"]),
    )


async def read(conn: Connection, user_id: UUID) -> Preferences | None:
    """The user's preferences; None if there is no such user."""
    row = await conn.fetchrow(
        f"""
        SELECT u.time_zone, {PREFERENCE_COLUMNS}
        FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id
        WHERE u.id = $1
        """,  # noqa: S608 - a constant column list
        user_id,
    )
    return None if row is None else preferences_of(row)


async def keep(
    conn: Connection, user_id: UUID, preferences: Preferences, metadata: Metadata
) -> None:
    """Keeps these as the user's preferences (the time zone is the user's, kept elsewhere), and
    records the change in their stream."""
    muted = sorted(preferences.muted_goals)
    await conn.execute(
        """
        INSERT INTO notification_preferences AS p (user_id, quiet_start, quiet_end, daily_cap,
            reminder_time, in_app, email, muted_goals, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
        ON CONFLICT (user_id) DO UPDATE SET quiet_start = EXCLUDED.quiet_start,
            quiet_end = EXCLUDED.quiet_end, daily_cap = EXCLUDED.daily_cap,
            reminder_time = EXCLUDED.reminder_time, in_app = EXCLUDED.in_app,
            email = EXCLUDED.email, muted_goals = EXCLUDED.muted_goals, updated_at = now()
        """,
        user_id,
        preferences.quiet_start,
        preferences.quiet_end,
        preferences.daily_cap,
        preferences.reminder_time,
        preferences.in_app,
        preferences.email,
        muted,
    )
    changed = NotificationPreferencesChanged(
        user_id,
        preferences.quiet_start,
        preferences.quiet_end,
        preferences.daily_cap,
        preferences.reminder_time,
        preferences.in_app,
        preferences.email,
        tuple(muted),
    )
    await record(conn, user_stream(user_id), [changed], metadata)
