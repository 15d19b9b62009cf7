from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.webhooks.schedule import (
    RETRY_DELAYS_SECONDS,
    AfterAttempt,
    EndpointHealth,
    Next,
    after_attempt,
    endpoint_health,
    jittered,
    retry_after_seconds,
)

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
FIVE_DAYS = timedelta(days=5)
ONE_DAY = timedelta(days=1)


def test_the_schedule_is_the_standard_one_ten_attempts_over_about_three_days() -> None:
    assert RETRY_DELAYS_SECONDS == (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    assert 2.9 < sum(RETRY_DELAYS_SECONDS) / 86400 < 3.3


@given(st.floats(0, 1, exclude_max=True), st.sampled_from(RETRY_DELAYS_SECONDS))
def test_jitter_stays_within_twenty_percent(fraction: float, delay: float) -> None:
    assert delay * 0.8 <= jittered(delay, fraction) <= delay * 1.2


@given(st.integers(1, 10), st.floats(0, 1, exclude_max=True))
def test_each_failed_attempt_waits_for_its_own_delay(attempts: int, fraction: float) -> None:
    step = after_attempt(500, attempts, RETRY_DELAYS_SECONDS, None, fraction)
    if attempts == 10:
        assert step == AfterAttempt(Next.FAILED)
    else:
        assert step.next is Next.RETRY
        assert step.retry_in_seconds == jittered(RETRY_DELAYS_SECONDS[attempts - 1], fraction)


def test_success_is_any_2xx_and_410_disables() -> None:
    for status in (200, 202, 204, 299):
        assert after_attempt(status, 1, RETRY_DELAYS_SECONDS, None, 0.5).next is Next.DELIVERED
    assert after_attempt(410, 1, RETRY_DELAYS_SECONDS, None, 0.5).next is Next.ENDPOINT_GONE
    for failed in (None, 301, 302, 400, 404, 429, 500, 503):
        assert after_attempt(failed, 1, RETRY_DELAYS_SECONDS, None, 0.5).next is Next.RETRY


def test_retry_after_is_honoured_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds("120", NOW) == 120
    assert retry_after_seconds("Fri, 20 Mar 2026 12:10:00 GMT", NOW) == 600
    assert retry_after_seconds("Fri, 20 Mar 2026 11:00:00 GMT", NOW) == 0
    assert retry_after_seconds("9999999", NOW) == 86400
    assert retry_after_seconds("soon", NOW) is None
    assert retry_after_seconds(None, NOW) is None
    step = after_attempt(503, 1, RETRY_DELAYS_SECONDS, 120, 0.9)
    assert step == AfterAttempt(Next.RETRY, 120)


def test_an_endpoint_failing_for_five_days_is_disabled_after_a_warning_a_day_before() -> None:
    def health(failing_for: timedelta | None, warned: bool = False) -> EndpointHealth:
        since = None if failing_for is None else NOW - failing_for
        return endpoint_health(since, warned, NOW, FIVE_DAYS, ONE_DAY)

    assert health(None) is EndpointHealth.FINE
    assert health(timedelta(days=3, hours=23)) is EndpointHealth.FINE
    assert health(timedelta(days=4)) is EndpointHealth.WARN
    assert health(timedelta(days=4, hours=1), warned=True) is EndpointHealth.FINE
    assert health(FIVE_DAYS, warned=True) is EndpointHealth.DISABLE
    assert health(FIVE_DAYS) is EndpointHealth.DISABLE
