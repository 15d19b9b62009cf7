"""The write check against made-up histories and logs: each breach it must name, it names."""

import uuid

import pytest

from tests.faults.checker import Logged, check_writes
from tests.faults.history import Attempt, History, Operation, Outcome, Style

GOAL = uuid.uuid4()
STREAM = f"goal-{GOAL}"


def attempt(number: int, status: int | None, version: int | None = None) -> Attempt:
    answer = Attempt(f"op-1.{number}", sent_at=float(number), ended_at=number + 0.5)
    answer.status = status
    answer.error = None if status else "timeout"
    answer.version, answer.position = version, None if version is None else version * 10
    return answer


def operation(style: Style, *attempts: Attempt, kind: str = "check_in") -> Operation:
    check_in_id = uuid.uuid4() if kind == "check_in" else None
    return Operation("op-1", 0, kind, GOAL, style, check_in_id, list(attempts))


def logged(request_id: str, version: int, op: Operation | None = None) -> Logged:
    check_in = None if op is None or op.check_in_id is None else str(op.check_in_id)
    return Logged(STREAM, version, version * 10, "progress_recorded", request_id, check_in)


def breaches(op: Operation, *log: Logged) -> list[str]:
    return check_writes(History([op]), list(log))


def test_an_acknowledged_write_logged_once_where_answered_holds() -> None:
    op = operation(Style.PLAIN, attempt(0, 200, version=3))
    assert breaches(op, logged("op-1.0", 3, op)) == []


def test_an_acknowledged_write_missing_from_the_log_is_named() -> None:
    op = operation(Style.PLAIN, attempt(0, 200, version=3))
    assert breaches(op) == [f"acknowledged, yet in the log 0 times (nowhere): {op.describe()}"]


def test_an_acknowledged_write_logged_twice_is_named() -> None:
    op = operation(Style.KEYED, attempt(0, None), attempt(1, 200, version=3))
    found = breaches(op, logged("op-1.0", 3), logged("op-1.1", 4))
    assert found == [f"acknowledged, yet in the log 2 times (v3 @30, v4 @40): {op.describe()}"]


def test_an_acknowledged_write_logged_elsewhere_than_answered_is_named() -> None:
    op = operation(Style.PLAIN, attempt(0, 200, version=3))
    assert breaches(op, logged("op-1.0", 4, op)) == [
        f"answered v3 @30, logged v4 @40: {op.describe()}"
    ]


def test_a_replayed_answer_matches_the_first_attempts_event() -> None:
    op = operation(Style.KEYED, attempt(0, 503), attempt(1, 200, version=3))
    assert breaches(op, logged("op-1.0", 3, op)) == []


def test_a_refused_write_in_the_log_is_named() -> None:
    op = operation(Style.PLAIN, attempt(0, 500), attempt(1, 422))
    assert op.outcome is Outcome.REFUSED
    assert breaches(op, logged("op-1.0", 5, op)) == [
        f"refused, yet in the log at v5 @50: {op.describe()}"
    ]


def test_a_conditional_write_refused_after_an_unknown_outcome_stays_unknown() -> None:
    op = operation(Style.CONDITIONAL, attempt(0, None), attempt(1, 409), kind="pause")
    assert op.outcome is Outcome.UNKNOWN
    assert breaches(op, logged("op-1.0", 5)) == []


def test_an_unknown_write_logged_twice_is_named() -> None:
    op = operation(Style.KEYED, attempt(0, None), attempt(1, None))
    assert breaches(op, logged("op-1.0", 5), logged("op-1.1", 6)) == [
        f"outcome unknown, and in the log 2 times (v5 @50, v6 @60): {op.describe()}"
    ]


def test_an_event_no_client_sent_is_named() -> None:
    op = operation(Style.PLAIN, attempt(0, 422))
    assert breaches(op, logged("op-2.0", 7)) == [
        f"{STREAM} v7: written by request op-2.0, which no client sent"
    ]


def test_a_check_in_logged_twice_is_named_whoever_wrote_it() -> None:
    op = operation(Style.PLAIN, attempt(0, 200, version=3))
    twice = breaches(op, logged("op-1.0", 3, op), logged("setup", 4, op))
    assert twice == [f"check-in {op.check_in_id} logged 2 times: {op.describe()}"]


@pytest.mark.parametrize(
    ("style", "kind", "retry_safe"),
    [
        (Style.PLAIN, "check_in", True),
        (Style.PLAIN, "pause", False),
        (Style.KEYED, "adjust", True),
        (Style.CONDITIONAL, "resume", True),
    ],
)
def test_which_writes_the_retry_contract_lets_a_client_send_again(
    style: Style, kind: str, retry_safe: bool
) -> None:
    assert operation(style, attempt(0, None), kind=kind).retry_safe is retry_safe
