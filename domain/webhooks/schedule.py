"""When a failed delivery is tried again, and when an endpoint has failed for too long.

Pure: the caller gives the time, the attempt's outcome and a random fraction for the jitter.
"""

import email.utils
import math
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

RETRY_DELAYS_SECONDS: tuple[float, ...] = (
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
)
"""After the first attempt (at once), the wait before each next one: ten attempts, about three
days in all."""

JITTER = 0.2
LONGEST_RETRY_AFTER_SECONDS = 24 * 3600.0
SUCCESS = range(200, 300)
GONE = 410


class Next(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    ENDPOINT_GONE = "endpoint_gone"


class AfterAttempt(msgspec.Struct, frozen=True, gc=False):
    next: Next
    retry_in_seconds: float | None = None


def jittered(delay: float, fraction: float) -> float:
    """`delay` moved by up to ±20 %; `fraction` is uniform in [0, 1)."""
    return delay * (1 - JITTER + 2 * JITTER * fraction)


def retry_after_seconds(header: str | None, now: datetime) -> float | None:
    """A receiver's `Retry-After`, seconds or an HTTP date, bounded to a day; None if absent or
    not understood."""
    if header is None:
        return None
    value = header.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - now).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), LONGEST_RETRY_AFTER_SECONDS)


def after_attempt(
    status: int | None,
    attempts_made: int,
    delays: tuple[float, ...],
    retry_after: float | None,
    fraction: float,
) -> AfterAttempt:
    """What follows an attempt that answered `status` (None: no answer in time, or none at all),
    being the `attempts_made`-th of the delivery."""
    if status is not None and status in SUCCESS:
        return AfterAttempt(Next.DELIVERED)
    if status == GONE:
        return AfterAttempt(Next.ENDPOINT_GONE)
    if attempts_made > len(delays):
        return AfterAttempt(Next.FAILED)
    if retry_after is not None:
        return AfterAttempt(Next.RETRY, retry_after)
    return AfterAttempt(Next.RETRY, jittered(delays[attempts_made - 1], fraction))


class EndpointHealth(StrEnum):
    FINE = "fine"
    WARN = "warn"
    DISABLE = "disable"


def endpoint_health(
    failing_since: datetime | None,
    warned: bool,
    now: datetime,
    disable_after: timedelta,
    warn_before: timedelta,
) -> EndpointHealth:
    """An endpoint failing since `failing_since` is disabled once that is `disable_after` ago,
    and its clinic warned once, `warn_before` earlier."""
    if failing_since is None:
        return EndpointHealth.FINE
    failing_for = now - failing_since
    if failing_for >= disable_after:
        return EndpointHealth.DISABLE
    if not warned and failing_for >= disable_after - warn_before:
        return EndpointHealth.WARN
    return EndpointHealth.FINE
