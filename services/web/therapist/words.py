"""The caseload and a client's page in plain words: what the templates print, worked out here
so that no rule lives in a template."""

from datetime import date
from uuid import UUID

import msgspec

from services.api.progress.schemas import CaseloadEntry, GoalSummaryOut, OverviewOut
from services.web.goal_cards import goal_card

FLAG_WORDS = {
    "no_check_in_7_days": "No check-in for 7 days",
    "behind_pace": "Behind pace",
    "due_within_7_days": "A goal due within 7 days",
    "missed_last_14_days": "A goal missed in the last 14 days",
}
RATINGS = (
    (2, "+2: much more than expected"),
    (1, "+1: somewhat more than expected"),
    (0, "0: as expected"),
    (-1, "-1: somewhat less than expected"),
    (-2, "-2: much less than expected"),
)
_RATING_WORDS = dict(RATINGS)
_NOT_RATED = frozenset({"entered_in_error"})


class CaseloadRow(msgspec.Struct, frozen=True):
    client_id: UUID
    name: str
    active_goals: int
    flags: tuple[str, ...]
    """Each flag in words (never colour alone); empty when nothing needs attention."""


def caseload_row(entry: CaseloadEntry) -> CaseloadRow:
    flags = tuple(words for field, words in FLAG_WORDS.items() if getattr(entry, field))
    return CaseloadRow(entry.client_id, entry.display_name, entry.active_goals, flags)


class Overview(msgspec.Struct, frozen=True):
    counts_text: str
    t_score_text: str
    overload_text: str | None


def overview_words(overview: OverviewOut) -> Overview:
    counts = (
        ("active", overview.active),
        ("paused", overview.paused),
        ("achieved", overview.achieved),
        ("missed", overview.missed),
        ("set aside", overview.cancelled),
    )
    counts_text = ", ".join(f"{count} {name}" for name, count in counts if count) or "No goals yet"
    score = overview.attainment_t_score
    rated = overview.rated_goals
    if score is None:
        t_score_text = "Not rated yet: rate a goal below to see it."
    else:
        plural = "goal" if rated == 1 else "goals"
        t_score_text = f"{score:.1f} (from {rated} rated {plural}; 50 is as expected)"
    overload_text = (
        "More active goals than the clinic suggests at once: consider pausing one together."
        if overview.overloaded
        else None
    )
    return Overview(counts_text, t_score_text, overload_text)


class ClientGoal(msgspec.Struct, frozen=True):
    goal_id: UUID
    statement: str
    status_text: str
    progress_text: str
    due_text: str
    rating_text: str
    rateable: bool
    adjustable: bool
    target_text: str
    unit: str
    due_date: date


def client_goal(summary: GoalSummaryOut, rating: int | None) -> ClientGoal:
    card = goal_card(summary)
    active = summary.status in {"active", "paused"}
    return ClientGoal(
        goal_id=summary.goal_id,
        statement=summary.statement,
        status_text=card.status_text or "Active",
        progress_text=f"{card.period_name}: {card.progress_text}",
        due_text=card.due_text,
        rating_text="Not rated yet" if rating is None else _RATING_WORDS[rating],
        rateable=summary.status not in _NOT_RATED,
        adjustable=active,
        target_text=f"{summary.measure.target:g}",
        unit=summary.measure.unit,
        due_date=summary.due_date,
    )
