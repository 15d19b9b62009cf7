"""The warning before a failing webhook endpoint is disabled: one nudge per admin, once per
failing streak."""

import uuid
from datetime import UTC, datetime, timedelta

from domain.nudges.endpoint_warning import endpoint_failing_nudges
from domain.nudges.nudge import Nudge

ENDPOINT = uuid.UUID("00000000-0000-0000-0000-00000000e001")
CLINIC = uuid.UUID("00000000-0000-0000-0000-00000000c001")
ADMINS = [uuid.UUID(int=1), uuid.UUID(int=2)]
SINCE = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)


def _warn(failing_since: datetime, now: datetime) -> list[Nudge]:
    return endpoint_failing_nudges(
        endpoint_id=ENDPOINT,
        clinic_id=CLINIC,
        host="ehr.example.org",
        admins=ADMINS,
        failing_since=failing_since,
        disabled_at=failing_since + timedelta(days=5),
        now=now,
    )


def test_each_admin_is_warned_once_per_streak_until_the_endpoint_is_disabled() -> None:
    first = _warn(SINCE, SINCE + timedelta(days=4))
    later = _warn(SINCE, SINCE + timedelta(days=4, hours=3))
    next_streak = _warn(SINCE + timedelta(days=9), SINCE + timedelta(days=13))

    assert [nudge.recipient_id for nudge in first] == ADMINS
    assert [nudge.key for nudge in first] == [nudge.key for nudge in later]
    assert not {nudge.key for nudge in first} & {nudge.key for nudge in next_streak}
    assert {nudge.stale_at for nudge in first} == {SINCE + timedelta(days=5)}
    assert {nudge.goal_id for nudge in first} == {None}
    assert first[0].message == (
        "A webhook endpoint of your clinic, at ehr.example.org, has failed every delivery since "
        "2026-05-01 08:30 UTC. Unless it answers again, it will be disabled at 2026-05-06 08:30 "
        "UTC. Check the receiver; once it works, what it missed can be replayed."
    )
