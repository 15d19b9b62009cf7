"""Who may manage whom: an admin their clinic's users, anyone themself."""

from uuid import UUID

from domain.access.policy import Caller
from domain.goals.rules import check_time_zone
from infra.access import directory
from infra.access.directory import DirectoryEntry
from infra.db.connection import Connection
from services.api.errors import FieldError, Problem, forbidden, not_found


def require_admin(caller: Caller) -> None:
    if caller.role != "admin":
        raise forbidden()


async def visible_user(conn: Connection, caller: Caller, user_id: UUID) -> DirectoryEntry:
    """The user if the caller manages them (admin) or is them; else they do not exist."""
    if caller.role != "admin" and caller.user_id != user_id:
        raise not_found("user")
    found = await directory.entry(conn, caller.clinic_id, user_id)
    if found is None:
        raise not_found("user")
    return found


def known_time_zone(time_zone: str, field: str = "time_zone") -> None:
    try:
        check_time_zone(time_zone)
    except Exception as error:
        raise Problem(
            422,
            "unknown_time_zone",
            f"{time_zone!r} is not a known IANA time zone.",
            errors=[FieldError(field, "unknown IANA time zone")],
        ) from error
