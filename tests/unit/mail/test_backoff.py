from hypothesis import given
from hypothesis import strategies as st

from infra.mail.backoff import JITTER, retry_delay

attempts = st.integers(min_value=1, max_value=10_000)
spreads = st.floats(min_value=-1, max_value=1)


def test_the_wait_doubles_from_the_first_up_to_the_longest() -> None:
    waits = [retry_delay(attempt, 30, 3600, 0) for attempt in range(1, 11)]

    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


@given(attempts, attempts, spreads)
def test_a_later_failure_never_waits_less_before_its_spread(
    earlier: int, later: int, spread: float
) -> None:
    earlier, later = sorted((earlier, later))

    assert retry_delay(earlier, 0.5, 900, 0) <= retry_delay(later, 0.5, 900, 0)
    spread_wait = retry_delay(later, 0.5, 900, spread)
    assert 0.5 * (1 - JITTER) <= spread_wait <= 900 * (1 + JITTER)


def test_the_default_settings_try_for_about_a_day() -> None:
    total = sum(retry_delay(attempt, 30, 3600, 0) for attempt in range(1, 30))

    assert 20 * 3600 < total < 30 * 3600
