"""Moments in query parameters: ISO 8601 times with their offsets."""

from datetime import datetime

from services.api.errors import FieldError, Problem


def moment_of(field: str, value: str) -> datetime:
    """The moment `value` names; a time without an offset would mean a different moment in
    every zone, so it is refused like one that is not a time at all."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Problem(
            400,
            f"invalid_{field}",
            f"{field} takes an ISO 8601 time with its offset, e.g. 2026-03-01T12:00:00Z.",
            errors=[FieldError(field, "an ISO 8601 time with an offset")],
        )
    return moment
