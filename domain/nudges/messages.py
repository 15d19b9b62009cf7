"""What nudges say. Kind, short, never shaming: a setback is part of the process, and a
reminder is an offer, not a reproach. These show in the app only; e-mail carries none of them."""

from datetime import UTC, date, datetime

from domain.goals.terms import Cadence

_PERIOD_WORDS: dict[Cadence, tuple[str, str]] = {
    "per_day": ("today", "days"),
    "per_week": ("this week", "weeks"),
    "per_month": ("this month", "months"),
    "by_due_date": ("so far", "periods"),
}


def _amount(value: float) -> str:
    return f"{value:g}"


def check_in_reminder(
    statement: str, done: float, target: float, unit: str, cadence: Cadence
) -> str:
    period = _PERIOD_WORDS[cadence][0]
    return (
        f"A gentle reminder about “{statement}”: {_amount(done)} of {_amount(target)} {unit} "
        f"{period}. A small step still counts; check in when you have done one."
    )


def due_soon(statement: str, due: date) -> str:
    return (
        f"“{statement}” is due on {due.isoformat()}. How is it going? If it needs more time "
        "or a different shape, you can adjust it with your therapist."
    )


def overdue_for_client(statement: str, due: date) -> str:
    return (
        f"“{statement}” reached its due date on {due.isoformat()}. When you have a moment, mark "
        "it achieved or missed, or adjust it with your therapist: either way it is progress."
    )


def overdue_for_therapist(statement: str, due: date) -> str:
    return (
        f"A client's goal, “{statement}”, reached its due date on {due.isoformat()} with no "
        "outcome yet: mark it achieved or missed with them, or adjust it."
    )


def achieved(statement: str) -> str:
    return f"“{statement}” is achieved. Well done: take a moment to notice what helped."


def streak(statement: str, periods: int, cadence: Cadence) -> str:
    return (
        f"{periods} {_PERIOD_WORDS[cadence][1]} in a row for “{statement}”. "
        "Keep going at your own pace."
    )


def after_miss(statement: str) -> str:
    return (
        "Setbacks are part of the process, and this one says nothing about your worth. When you "
        "are ready, look back at "
        f"“{statement}” with kindness: what got in the way, and what would make the next step "
        "fit you better? You can adjust it, take a pause, or set a new goal with your therapist."
    )


def overload(active: int, limit: int) -> str:
    return (
        f"You have {active} active goals, and your clinic suggests at most {limit} at a time. "
        "It can help to choose the few that matter most right now and pause the others."
    )


def encouragement(sender: str, text: str) -> str:
    return f"{sender} sends encouragement: {text}"


def endpoint_failing(host: str, failing_since: datetime, disabled_at: datetime) -> str:
    """To a clinic's admins: which receiver, since when, and what to do; nothing of what it was
    sent."""
    return (
        f"A webhook endpoint of your clinic, at {host}, has failed every delivery since "
        f"{failing_since.astimezone(UTC):%Y-%m-%d %H:%M} UTC. Unless it answers again, it will "
        f"be disabled at {disabled_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC. Check the receiver; "
        "once it works, what it missed can be replayed."
    )
