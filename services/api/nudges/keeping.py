"""Keeping a person's notification preferences: the one path `PUT
/v1/me/notification-preferences` and the web app's preferences page take."""

from datetime import time

import msgspec

from domain.access.policy import Caller
from domain.nudges.preferences import Preferences
from infra.access import directory
from infra.db.connection import Connection
from infra.eventstore.envelope import Metadata
from infra.nudges import preferences as kept_preferences
from services.api.errors import not_found
from services.api.nudges.schemas import PreferencesIn
from services.api.users.access import known_time_zone


async def mine(conn: Connection, caller: Caller) -> Preferences:
    found = await kept_preferences.read(conn, caller.user_id)
    if found is None:  # pragma: no cover - an authenticated caller is a user
        raise not_found("user")
    return found


async def keep_preferences(
    conn: Connection, caller: Caller, data: PreferencesIn, metadata: Metadata
) -> Preferences:
    """The whole of the caller's preferences as `data` has them, kept if they changed."""
    entry = await directory.entry(conn, caller.clinic_id, caller.user_id)
    if entry is None:  # pragma: no cover - an authenticated caller is a user
        raise not_found("user")
    time_zone = entry.user.time_zone
    if data.time_zone is not None and data.time_zone != time_zone:
        known_time_zone(data.time_zone)
        time_zone = data.time_zone
        changed = msgspec.structs.replace(entry.user, time_zone=time_zone)
        await directory.change_details(conn, changed, metadata)
    wanted = Preferences(
        time_zone=time_zone,
        quiet_start=time.fromisoformat(data.quiet_hours.start),
        quiet_end=time.fromisoformat(data.quiet_hours.end),
        daily_cap=data.daily_cap,
        reminder_time=time.fromisoformat(data.reminder_time),
        in_app=data.channels.in_app,
        email=data.channels.email,
        muted_goals=frozenset(data.muted_goals),
    )
    if wanted != await mine(conn, caller):
        await kept_preferences.keep(conn, caller.user_id, wanted, metadata)
    return wanted
