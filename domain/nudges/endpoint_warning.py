"""The warning a clinic's admins get before a failing webhook endpoint is disabled.

Pure: the endpoint's failing streak and the admins in, one nudge to each out. The key names the
endpoint and the start of the streak: however often a failing attempt finds the warning due, each
admin is warned once per streak; a streak that ends and starts again is warned of again.
"""

from datetime import datetime
from uuid import UUID

from domain.nudges import messages
from domain.nudges.nudge import Nudge, nudge_key


def endpoint_failing_nudges(
    *,
    endpoint_id: UUID,
    clinic_id: UUID,
    host: str,
    admins: list[UUID],
    failing_since: datetime,
    disabled_at: datetime,
    now: datetime,
) -> list[Nudge]:
    """Due at once; stale when the endpoint is disabled, after which it no longer helps."""
    message = messages.endpoint_failing(host, failing_since, disabled_at)
    return [
        Nudge(
            key=nudge_key("endpoint_failing", endpoint_id, failing_since.isoformat(), admin),
            kind="endpoint_failing",
            recipient_id=admin,
            clinic_id=clinic_id,
            goal_id=None,
            message=message,
            deliver_at=now,
            stale_at=disabled_at,
        )
        for admin in admins
    ]
