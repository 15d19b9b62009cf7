"""How long an e-mail waits after a failed attempt: a pure function of the attempt's number."""

JITTER = 0.2


def retry_delay(attempts: int, first: float, longest: float, spread: float) -> float:
    """Seconds before the next attempt, after `attempts` failed ones (from 1): `first`, doubled
    with each further failure, at most `longest`, then moved by `spread` (in [-1, 1]) times 20 %,
    so that e-mails that failed together (an SMTP outage) are not all tried again together."""
    doublings = min(attempts - 1, 62)  # past this the float overflows, long after `longest`
    return min(first * 2.0**doublings, longest) * (1 + JITTER * spread)
