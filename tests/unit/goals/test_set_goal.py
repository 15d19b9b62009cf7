from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.goals.state import Goal, NoGoal
from tests.unit.goals.builders import (
    CLIENT_ID,
    CLINIC_OPENED,
    GOAL_ID,
    NOW,
    OTHER_GOAL_ID,
    given,
    goal_set,
    measure,
    set_goal,
    terms,
)

# Long before NOW: its goals may reach back further than a year before today.
_OPENED_LONG_AGO = datetime(2022, 6, 1, 9, 0, tzinfo=UTC)


def test_setting_a_goal_emits_goal_set_and_folds_to_an_active_goal() -> None:
    state = given().when(set_goal()).then(goal_set())

    assert state == Goal(
        goal_id=GOAL_ID,
        client_id=CLIENT_ID,
        terms=terms(),
        status="active",
        replaces=None,
    )


def test_a_goal_can_name_the_goal_it_replaces() -> None:
    state = given().when(set_goal(replaces=OTHER_GOAL_ID)).then(goal_set(replaces=OTHER_GOAL_ID))

    assert isinstance(state, Goal)
    assert state.replaces == OTHER_GOAL_ID


def test_a_goal_cannot_be_set_twice_on_one_stream() -> None:
    given(goal_set()).when(set_goal()).then_rejected("goal_exists")


def test_a_goal_cannot_replace_itself() -> None:
    given().when(set_goal(replaces=GOAL_ID)).then_rejected("replaces_itself", "replaces")


def test_the_empty_stream_folds_to_no_goal() -> None:
    assert given().state == NoGoal()


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("abc", id="3 characters"),
        pytest.param("x" * 200, id="200 characters"),
        pytest.param("  abc  ", id="padding is not counted"),
    ],
)
def test_statement_length_bounds_are_inclusive(statement: str) -> None:
    command = set_goal(terms=terms(statement=statement))

    given().when(command).then(goal_set(terms=terms(statement=statement)))


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("", id="empty"),
        pytest.param("ab", id="2 characters"),
        pytest.param("   ab   ", id="2 characters once padding is stripped"),
        pytest.param("x" * 201, id="201 characters"),
    ],
)
def test_statement_outside_3_to_200_characters_is_refused(statement: str) -> None:
    command = set_goal(terms=terms(statement=statement))

    given().when(command).then_rejected("statement_length", "terms.statement")


def test_ten_values_are_accepted() -> None:
    values = tuple(f"value {n}" for n in range(10))

    given().when(set_goal(terms=terms(values=values))).then(goal_set(terms=terms(values=values)))


def test_more_than_ten_values_are_refused() -> None:
    values = tuple(f"value {n}" for n in range(11))

    given().when(set_goal(terms=terms(values=values))).then_rejected(
        "too_many_values", "terms.values"
    )


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        pytest.param(("health", " "), "text_required", "terms.values[1]", id="blank"),
        pytest.param(("x" * 61,), "text_too_long", "terms.values[0]", id="61 characters"),
    ],
)
def test_each_value_must_be_short_text(values: tuple[str, ...], code: str, field: str) -> None:
    given().when(set_goal(terms=terms(values=values))).then_rejected(code, field)


@pytest.mark.parametrize("cue", [None, "x" * 200])
def test_cue_is_optional_up_to_200_characters(cue: str | None) -> None:
    given().when(set_goal(terms=terms(cue=cue))).then(goal_set(terms=terms(cue=cue)))


@pytest.mark.parametrize(
    ("cue", "code"),
    [
        pytest.param("", "text_required", id="empty"),
        pytest.param("\t\n", "text_required", id="whitespace"),
        pytest.param("x" * 201, "text_too_long", id="201 characters"),
    ],
)
def test_a_given_cue_must_be_short_text(cue: str, code: str) -> None:
    given().when(set_goal(terms=terms(cue=cue))).then_rejected(code, "terms.cue")


@pytest.mark.parametrize("target", [0.0, -1.0, float("nan"), float("inf"), float("-inf")], ids=repr)
def test_target_must_be_a_finite_number_above_zero(target: float) -> None:
    command = set_goal(terms=terms(measure=measure(target=target)))

    given().when(command).then_rejected("target_not_positive", "terms.measure.target")


@pytest.mark.parametrize(
    ("kind", "limit"),
    [
        ("count", 10_000.0),
        ("duration_minutes", 527_040.0),
        ("rating_0_10", 10.0),
        ("done", 1_000.0),
    ],
)
def test_target_may_reach_but_not_pass_the_limit_for_its_kind(kind: str, limit: float) -> None:
    at_limit = terms(measure=measure(kind=kind, target=limit))
    past_limit = terms(measure=measure(kind=kind, target=limit + 0.5))

    given().when(set_goal(terms=at_limit)).then(goal_set(terms=at_limit))
    given().when(set_goal(terms=past_limit)).then_rejected(
        "target_out_of_range", "terms.measure.target"
    )


@pytest.mark.parametrize("kind", ["count", "done"])
def test_counted_targets_are_whole_numbers(kind: str) -> None:
    command = set_goal(terms=terms(measure=measure(kind=kind, target=2.5)))

    given().when(command).then_rejected("target_not_whole", "terms.measure.target")


@pytest.mark.parametrize("kind", ["duration_minutes", "rating_0_10"])
def test_measured_targets_may_be_fractional(kind: str) -> None:
    fractional = terms(measure=measure(kind=kind, target=7.5))

    given().when(set_goal(terms=fractional)).then(goal_set(terms=fractional))


def test_an_int_target_is_accepted_like_the_equal_float() -> None:
    int_target = terms(measure=measure(target=3))

    given().when(set_goal(terms=int_target)).then(goal_set(terms=int_target))


@pytest.mark.parametrize(
    ("unit", "code"),
    [
        pytest.param(" ", "text_required", id="blank"),
        pytest.param("x" * 41, "text_too_long", id="41 characters"),
    ],
)
def test_the_unit_is_short_text(unit: str, code: str) -> None:
    command = set_goal(terms=terms(measure=measure(unit=unit)))

    given().when(command).then_rejected(code, "terms.measure.unit")


@pytest.mark.parametrize(
    "zone", ["", "Mars/Olympus_Mons", "Europe/", "europe/berlin", "../etc/passwd", "/etc/UTC"]
)
def test_time_zone_must_be_a_known_iana_name(zone: str) -> None:
    given().when(set_goal(terms=terms(time_zone=zone))).then_rejected(
        "unknown_time_zone", "terms.time_zone"
    )


@pytest.mark.parametrize("due", [date(2025, 3, 3), date(2025, 3, 2)], ids=["same day", "before"])
def test_due_date_must_come_after_the_start_date(due: date) -> None:
    command = set_goal(terms=terms(start_date=date(2025, 3, 3), due_date=due))

    given().when(command).then_rejected("due_before_start", "terms.due_date")


def test_due_date_the_day_after_start_is_accepted() -> None:
    one_day = terms(start_date=date(2025, 3, 3), due_date=date(2025, 3, 4))

    given().when(set_goal(terms=one_day)).then(goal_set(terms=one_day))


def test_due_date_may_be_exactly_five_years_from_today_but_not_later() -> None:
    # NOW is 2025-03-10 in Berlin.
    within = terms(due_date=date(2030, 3, 10))
    beyond = terms(due_date=date(2030, 3, 11))

    given().when(set_goal(terms=within)).then(goal_set(terms=within))
    given().when(set_goal(terms=beyond)).then_rejected("due_too_far", "terms.due_date")


@pytest.mark.parametrize(
    ("zone", "outcome"),
    [
        # 12:00 UTC is already 11 March in Auckland but still 10 March in Los Angeles.
        ("Pacific/Auckland", "accepted"),
        ("America/Los_Angeles", "due_too_far"),
    ],
)
def test_five_years_count_from_today_in_the_goals_time_zone(zone: str, outcome: str) -> None:
    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    command = set_goal(now=now, terms=terms(time_zone=zone, due_date=date(2030, 3, 11)))

    scenario = given().when(command)

    if outcome == "accepted":
        scenario.then(goal_set(terms=command.terms))
    else:
        scenario.then_rejected(outcome, "terms.due_date")


def test_five_years_from_29_february_end_on_28_february() -> None:
    now = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    within = terms(start_date=date(2028, 2, 1), due_date=date(2033, 2, 28))
    beyond = terms(start_date=date(2028, 2, 1), due_date=date(2033, 3, 1))

    given().when(set_goal(now=now, terms=within)).then(goal_set(terms=within))
    given().when(set_goal(now=now, terms=beyond)).then_rejected("due_too_far", "terms.due_date")


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param(
            {"statement": "", "values": ("",) * 11},
            "statement_length",
            "terms.statement",
            id="statement before values",
        ),
        pytest.param(
            {"cue": "", "measure": measure(target=0.0)},
            "text_required",
            "terms.cue",
            id="cue before measure",
        ),
        pytest.param(
            {"measure": measure(target=0.0), "time_zone": "Nowhere"},
            "target_not_positive",
            "terms.measure.target",
            id="measure before time zone",
        ),
        pytest.param(
            {"time_zone": "Nowhere", "due_date": date(2020, 1, 1)},
            "unknown_time_zone",
            "terms.time_zone",
            id="time zone before dates",
        ),
    ],
)
def test_the_first_broken_rule_in_reading_order_is_reported(
    overrides: dict[str, Any], code: str, field: str
) -> None:
    given().when(set_goal(terms=terms(**overrides))).then_rejected(code, field)


def test_setting_an_existing_goal_is_refused_before_its_terms_are_checked() -> None:
    given(goal_set()).when(set_goal(terms=terms(statement=""))).then_rejected("goal_exists")


@pytest.mark.parametrize(
    ("opened", "start", "accepted"),
    [
        pytest.param(CLINIC_OPENED, date(2024, 3, 10), True, id="opened today: a year back"),
        pytest.param(CLINIC_OPENED, date(2024, 3, 9), False, id="opened today: a day more"),
        pytest.param(_OPENED_LONG_AGO, date(2021, 6, 1), True, id="a year before it opened"),
        pytest.param(_OPENED_LONG_AGO, date(2021, 5, 31), False, id="a day more"),
        pytest.param(_OPENED_LONG_AGO, date(1900, 1, 1), False, id="1900"),
        pytest.param(_OPENED_LONG_AGO, date(1, 1, 1), False, id="year 1"),
        # The database's clock a little ahead of ours: the rule is never stricter than today's.
        pytest.param(NOW + timedelta(days=2), date(2024, 3, 10), True, id="opened tomorrow"),
    ],
)
def test_a_new_goal_starts_at_most_a_year_before_its_clinic_opened(
    opened: datetime, start: date, accepted: bool
) -> None:
    command = set_goal(terms=terms(start_date=start), clinic_opened=opened)  # NOW: 10 March 2025

    if accepted:
        given().when(command).then(goal_set(terms=terms(start_date=start)))
    else:
        given().when(command).then_rejected("start_too_early", "terms.start_date")


def test_a_start_too_early_is_refused_with_the_rule_and_the_earliest_day() -> None:
    command = set_goal(terms=terms(start_date=date(2020, 1, 1)), clinic_opened=_OPENED_LONG_AGO)

    violation = given().when(command).then_rejected("start_too_early", "terms.start_date")

    assert "at most 1 year before the clinic opened on 2022-06-01" in violation.message
    assert "on 2021-06-01 or later" in violation.message


def test_the_clinics_opening_is_a_day_in_the_goals_time_zone() -> None:
    """22:30 UTC on 31 May is 1 June in Berlin, where the goal's days are counted."""
    opened = datetime(2022, 5, 31, 22, 30, tzinfo=UTC)
    day_before = terms(start_date=date(2021, 5, 31), time_zone="Europe/Berlin")

    given().when(set_goal(terms=day_before, clinic_opened=opened)).then_rejected(
        "start_too_early", "terms.start_date"
    )
    in_utc = terms(start_date=date(2021, 5, 31), time_zone="UTC")
    given().when(set_goal(terms=in_utc, clinic_opened=opened)).then(goal_set(terms=in_utc))
