"""Progress over time: periods in the client's own time zone, streaks, and how it is going.

Pure functions of a goal's terms, its check-ins and today's date; the worker stores only facts,
and these are worked out when read, so they are never stale as days pass.
"""

import calendar
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from itertools import islice
from statistics import fmean
from zoneinfo import ZoneInfo

import msgspec

from domain.goals.terms import Cadence, GoalStatus, GoalTerms

AchievementStatus = str
"""FHIR goal-achievement codes: in-progress, improving, worsening, no-change, achieved,
not-achieved."""


class CountedCheckIn(msgspec.Struct, frozen=True, gc=False):
    amount: float
    occurred_at: datetime


class Period(msgspec.Struct, frozen=True, gc=False):
    start: date
    end: date
    """The first day after the period."""
    done: float
    target: float
    met: bool
    adherence: float
    """Share of the target reached, 0 to 100."""


def period_start(day: date, cadence: Cadence, goal_start: date) -> date:
    """The first day of the period `day` falls in; weeks start on Monday."""
    if cadence == "per_day":
        return day
    if cadence == "per_week":
        return day - timedelta(days=day.weekday())
    if cadence == "per_month":
        return day.replace(day=1)
    return goal_start


def period_end(start: date, cadence: Cadence, due: date) -> date:
    if cadence == "per_day":
        return start + timedelta(days=1)
    if cadence == "per_week":
        return start + timedelta(days=7)
    if cadence == "per_month":
        return start + timedelta(days=calendar.monthrange(start.year, start.month)[1])
    return due + timedelta(days=1)


def local_day(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(ZoneInfo(time_zone)).date()


def _amounts_by_period(
    terms: GoalTerms, check_ins: Iterable[CountedCheckIn]
) -> dict[date, list[float]]:
    cadence = terms.measure.cadence
    by_period: dict[date, list[float]] = {}
    for check_in in check_ins:
        day = local_day(check_in.occurred_at, terms.time_zone)
        by_period.setdefault(period_start(day, cadence, terms.start_date), []).append(
            check_in.amount
        )
    return by_period


def _period(terms: GoalTerms, start: date, amounts: list[float]) -> Period:
    rated = terms.measure.kind == "rating_0_10"
    done = (fmean(amounts) if amounts else 0.0) if rated else float(sum(amounts))
    target = terms.measure.target
    return Period(
        start=start,
        end=period_end(start, terms.measure.cadence, terms.due_date),
        done=done,
        target=target,
        met=done >= target,
        adherence=round(min(done / target, 1.0) * 100, 1),
    )


def _starts_back(terms: GoalTerms, last_day: date) -> Iterator[date]:
    """The starts of the periods up to the one holding `last_day`, latest first."""
    cadence = terms.measure.cadence
    first = period_start(terms.start_date, cadence, terms.start_date)
    if last_day < first:
        return
    start = period_start(last_day, cadence, terms.start_date)
    while start >= first:
        yield start
        if cadence == "per_day":
            start -= timedelta(days=1)
        elif cadence == "per_week":
            start -= timedelta(days=7)
        elif cadence == "per_month":
            start = (start - timedelta(days=1)).replace(day=1)
        else:
            return


def series(
    terms: GoalTerms,
    check_ins: Iterable[CountedCheckIn],
    today: date,
    *,
    periods: int | None = None,
    before: date | None = None,
) -> list[Period]:
    """The periods from the goal's start to the one holding today (or the due date), oldest
    first; with `periods`, only that many of the latest, and with `before`, only those that
    start before it. The work is that of the periods returned and of the check-ins given,
    however old the goal."""
    last_day = min(today, terms.due_date)
    if before is not None:
        last_day = min(last_day, before - timedelta(days=1))
    starts = islice(_starts_back(terms, last_day), periods)
    by_period = _amounts_by_period(terms, check_ins)
    return [_period(terms, start, by_period.get(start, [])) for start in reversed(list(starts))]


def has_earlier(terms: GoalTerms, period: Period) -> bool:
    """Whether the goal has a period before this one."""
    cadence = terms.measure.cadence
    return period.start > period_start(terms.start_date, cadence, terms.start_date)


def streak(terms: GoalTerms, check_ins: Iterable[CountedCheckIn], today: date) -> int:
    """Periods met in a row, counting back from the latest; an unfinished period that is not
    met yet does not break the streak. Only periods with check-ins can be met, so the count
    stops after as many periods as there are check-ins, however old the goal."""
    by_period = _amounts_by_period(terms, check_ins)
    count = 0
    for index, start in enumerate(_starts_back(terms, min(today, terms.due_date))):
        period = _period(terms, start, by_period.get(start, []))
        unfinished = index == 0 and period.end > today
        if period.met:
            count += 1
        elif not unfinished:
            break
    return count


def achievement_status(status: GoalStatus, periods: list[Period], today: date) -> AchievementStatus:
    if status == "achieved":
        return "achieved"
    if status == "missed":
        return "not-achieved"
    finished = [period for period in periods if period.end <= today]
    if len(finished) < 2:
        return "in-progress"
    before, latest = finished[-2].done, finished[-1].done
    if latest > before:
        return "improving"
    if latest < before:
        return "worsening"
    return "no-change"


def expected_by_now(period: Period, today: date) -> float:
    """How much of the target a steady pace would have reached by the start of today."""
    length = (period.end - period.start).days
    elapsed = min(max((today - period.start).days, 0), length)
    return period.target * elapsed / length if length else period.target
