"""The goal page's timeline: an adjustment shows each changed term before and after, with its
reason; a miss reads "not this time" with what got in the way."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.api.goals.schemas import Actor, HistoryEntry
from services.web.client_timeline import Change, timeline

_MEASURE = {"kind": "count", "unit": "walks", "cadence": "per_week"}


def _entry(
    version: int, kind: str, data: dict[str, object], reason: str | None = None
) -> HistoryEntry:
    return HistoryEntry(
        version=version,
        position=version,
        type=kind,
        recorded_at=datetime(2026, 11, version, 9, 30, tzinfo=UTC),
        actor=Actor(None, "Dr Lee", "therapist"),
        reason=reason,
        correlation_id="c",
        data=data,
    )


def test_an_adjustment_shows_before_after_and_why_newest_first() -> None:
    moments = timeline(
        [
            _entry(1, "goal_set", {"terms": {"statement": "Walk"}}),
            _entry(
                2,
                "goal_adjusted",
                {
                    "before": {"measure": {**_MEASURE, "target": 3}, "due_date": "2026-12-01"},
                    "after": {"measure": {**_MEASURE, "target": 2}, "due_date": "2026-12-15"},
                    "reason": "Three was too many",
                },
                "Three was too many",
            ),
            _entry(3, "goal_missed", {"cause": "obstacles", "reflection": "Busy month"}),
        ],
        ZoneInfo("Europe/Berlin"),
    )
    assert [moment.title for moment in moments] == ["Not this time", "Goal adjusted", "Goal set"]
    assert moments[0].details == ["What got in the way: Things got in the way", "Busy month"]
    assert moments[1].changes == [
        Change("Measure", "3 walks a week", "2 walks a week"),
        Change("Due", "2026-12-01", "2026-12-15"),
    ]
    assert moments[1].reason == "Three was too many"
    assert moments[1].who == "Dr Lee"
    assert moments[1].when_text == "2 November 2026, 10:30"  # 09:30 UTC, in Berlin
