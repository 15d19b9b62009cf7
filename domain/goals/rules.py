"""SMART rules for goal terms and check-ins.

Each check raises `GoalRuleViolation` with a stable code, a message for a person and the field.
"""

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.goals.errors import GoalRuleViolation
from domain.goals.terms import GoalTerms, Measure

STATEMENT_LENGTH = range(3, 201)
MAX_YEARS_AHEAD = 5
# A goal may be entered after it began (a plan agreed on paper, or the goals a clinic brings
# from its records when it starts here), but not from more than a year before the clinic came
# to the service: before that it is history, not a goal to track. With due dates at most
# MAX_YEARS_AHEAD ahead and check-ins from the goal's start to now, every date a goal or its
# check-ins carry lies between a year before the clinic opened and a few years ahead of today.
MAX_YEARS_BACK = 1
MAX_VALUES = 10
MAX_TEXT = 2000
MAX_SHORT_TEXT = 200
# A device clock a little ahead of ours is not a check-in from the future.
CLOCK_SKEW = timedelta(minutes=5)

# The largest sensible target per kind; past these a goal is not attainable as written.
TARGET_LIMITS: dict[str, float] = {
    "count": 10_000,
    "duration_minutes": 60 * 24 * 366,
    "rating_0_10": 10,
    "done": 1_000,
}
WHOLE_NUMBER_KINDS = frozenset({"count", "done"})
# The most one check-in can add, per kind: a count no larger than any goal's target, a day's
# minutes, one "done", the top of the scale. Bounded amounts keep every total a finite,
# exact number (whole counts stay exact in a float far past any goal's lifetime of check-ins).
AMOUNT_LIMITS: dict[str, float] = {
    "count": TARGET_LIMITS["count"],
    "duration_minutes": 24 * 60,
    "rating_0_10": 10,
    "done": 1,
}


def _fail(code: str, message: str, field: str) -> GoalRuleViolation:
    return GoalRuleViolation(code, message, field)


def check_text(value: str, field: str, *, limit: int = MAX_TEXT, required: bool = True) -> None:
    if required and not value.strip():
        raise _fail("text_required", "Please write a few words here.", field)
    if len(value) > limit:
        raise _fail("text_too_long", f"Please keep this under {limit} characters.", field)


def check_measure(measure: Measure, field: str = "measure") -> None:
    target = measure.target
    if not math.isfinite(target) or target <= 0:
        raise _fail(
            "target_not_positive", "The target must be a number above zero.", f"{field}.target"
        )
    if target > TARGET_LIMITS[measure.kind]:
        limit = TARGET_LIMITS[measure.kind]
        raise _fail(
            "target_out_of_range",
            f"A {measure.kind} target can be at most {limit:g}.",
            f"{field}.target",
        )
    if measure.kind in WHOLE_NUMBER_KINDS and not float(target).is_integer():
        raise _fail(
            "target_not_whole",
            f"A {measure.kind} target is a whole number.",
            f"{field}.target",
        )
    check_text(measure.unit, f"{field}.unit", limit=40)


def check_time_zone(name: str, field: str = "time_zone") -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(
            "unknown_time_zone", f"{name!r} is not a known IANA time zone.", field
        ) from None


def check_dates(start: date, due: date, today: date, field: str = "due_date") -> None:
    if due <= start:
        raise _fail("due_before_start", "The due date must come after the start date.", field)
    if due > _years_after(today, MAX_YEARS_AHEAD):
        raise _fail(
            "due_too_far",
            f"Choose a due date within {MAX_YEARS_AHEAD} years, so the goal stays time-bound.",
            field,
        )


def check_start(start: date, today: date, opened: date, field: str = "start_date") -> None:
    """Only for a new goal: an adjusted goal keeps the start it was set with.

    `opened` is the day the clinic came to the service; never later than `today`, so that a
    clock running behind the database's makes the rule no stricter than a year before today.
    """
    opened = min(opened, today)
    earliest = _years_after(opened, -MAX_YEARS_BACK)
    if start < earliest:
        raise _fail(
            "start_too_early",
            f"A goal can start at most {MAX_YEARS_BACK} year before the clinic opened "
            f"on {opened.isoformat()}: on {earliest.isoformat()} or later.",
            field,
        )


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_terms(terms: GoalTerms, now: datetime, prefix: str = "terms") -> None:
    length = len(terms.statement.strip())
    if length not in STATEMENT_LENGTH:
        raise _fail(
            "statement_length",
            "Describe the goal in 3 to 200 characters.",
            f"{prefix}.statement",
        )
    if len(terms.values) > MAX_VALUES:
        raise _fail("too_many_values", f"Name at most {MAX_VALUES} values.", f"{prefix}.values")
    for index, value in enumerate(terms.values):
        check_text(value, f"{prefix}.values[{index}]", limit=60)
    if terms.cue is not None:
        check_text(terms.cue, f"{prefix}.cue", limit=MAX_SHORT_TEXT)
    check_measure(terms.measure, f"{prefix}.measure")
    check_time_zone(terms.time_zone, f"{prefix}.time_zone")
    today = now.astimezone(ZoneInfo(terms.time_zone)).date()
    check_dates(terms.start_date, terms.due_date, today, f"{prefix}.due_date")


def check_new_terms(
    terms: GoalTerms, now: datetime, clinic_opened: datetime, prefix: str = "terms"
) -> None:
    """`clinic_opened`: when the clinic came to the service; both moments are read as days
    in the goal's time zone."""
    check_terms(terms, now, prefix)
    zone = ZoneInfo(terms.time_zone)
    today, opened = now.astimezone(zone).date(), clinic_opened.astimezone(zone).date()
    check_start(terms.start_date, today, opened, f"{prefix}.start_date")


def check_amount(measure: Measure, amount: float) -> None:
    if not math.isfinite(amount):
        raise _fail("amount_invalid", "The amount must be a number.", "amount")
    kind = measure.kind
    if kind == "rating_0_10":
        if not 0 <= amount <= 10:
            raise _fail("amount_out_of_range", "A rating is between 0 and 10.", "amount")
        return
    if amount <= 0:
        raise _fail("amount_not_positive", "The amount must be above zero.", "amount")
    if kind in WHOLE_NUMBER_KINDS and not float(amount).is_integer():
        raise _fail("amount_not_whole", f"A {kind} check-in is a whole number.", "amount")
    if kind == "done" and amount != 1:
        raise _fail("amount_out_of_range", "A done check-in counts once.", "amount")
    if kind == "duration_minutes" and amount > AMOUNT_LIMITS[kind]:
        raise _fail("amount_out_of_range", "A day holds at most 1440 minutes.", "amount")
    if amount > AMOUNT_LIMITS[kind]:
        raise _fail(
            "amount_out_of_range",
            f"A {kind} check-in adds at most {AMOUNT_LIMITS[kind]:g}.",
            "amount",
        )


def check_occurred_at(occurred_at: datetime, now: datetime, start: date, zone: str) -> None:
    if occurred_at.tzinfo is None:
        raise _fail("time_without_zone", "Give the time with its UTC offset.", "occurred_at")
    try:
        occurred_at.astimezone(UTC)
    except OverflowError:  # its offset takes it before year 1 or past year 9999
        raise _fail(
            "time_out_of_range",
            "This time lies outside the dates a goal can have.",
            "occurred_at",
        ) from None
    if occurred_at > now + CLOCK_SKEW:
        raise _fail("check_in_in_future", "A check-in cannot be in the future.", "occurred_at")
    if occurred_at.astimezone(ZoneInfo(zone)).date() < start:
        raise _fail(
            "check_in_before_start",
            "This check-in is from before the goal started.",
            "occurred_at",
        )
