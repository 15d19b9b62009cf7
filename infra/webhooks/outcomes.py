"""Writing back what attempts came to: one attempt row each, the delivery's next state, and the
endpoint's health (a success clears its failing streak; 410, or five days of failures, disables
it, the latter after a nudge to the clinic's admins a day before)."""

from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID

import structlog

from domain.nudges.endpoint_warning import endpoint_failing_nudges
from domain.webhooks.schedule import (
    EndpointHealth,
    Next,
    after_attempt,
    endpoint_health,
    retry_after_seconds,
)
from infra.db.connection import Connection
from infra.nudges.stored import Origin, store
from infra.webhooks.claims import Due, Endpoint
from infra.webhooks.http import Answer

log = structlog.get_logger(__name__)

_STATE = {
    Next.DELIVERED: "delivered",
    Next.RETRY: "pending",
    Next.FAILED: "failed",
    Next.ENDPOINT_GONE: "held",
}


class Policy:
    def __init__(
        self,
        delays: tuple[float, ...],
        disable_after: timedelta,
        random: Callable[[], float],
    ) -> None:
        self.delays = delays
        self.disable_after = disable_after
        self.warn_before = min(timedelta(days=1), disable_after / 5)
        self.random = random


async def record(
    conn: Connection,
    endpoint: Endpoint,
    attempts: list[tuple[Due, datetime, Answer]],
    policy: Policy,
    now: datetime,
) -> bool:
    """Writes the attempts back; True when the endpoint was disabled by them."""
    if not attempts:
        return False
    rows = []
    gone = False
    for due, at, answer in attempts:
        retry_after = retry_after_seconds(answer.retry_after, now)
        step = after_attempt(
            answer.status, due.attempt_count + 1, policy.delays, retry_after, policy.random()
        )
        gone = gone or step.next is Next.ENDPOINT_GONE
        rows.append((due.delivery_id, at, answer, _STATE[step.next], step.retry_in_seconds))
    await conn.executemany(
        "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, duration_ms, error, "
        "response_body) VALUES ($1, $2, $3, $4, $5, $6)",
        [
            (delivery, at, answer.status, answer.duration_ms, answer.error, answer.response)
            for delivery, at, answer, _, _ in rows
        ],
    )
    await conn.executemany(
        """
        UPDATE webhook_deliveries SET attempt_count = attempt_count + 1, state = $2,
            last_status = $3,
            next_attempt_at = CASE WHEN $2 = 'pending' THEN now() + make_interval(secs => $4) END,
            delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END
        WHERE id = $1
        """,
        [
            (delivery, state, answer.status, retry_in)
            for delivery, _, answer, state, retry_in in rows
        ],
    )
    if gone:
        await disable(conn, endpoint.id, "gone")
        return True
    if any(state == "delivered" for _, _, _, state, _ in rows):
        # Written only when there is a streak to end: the endpoint's row is also where the
        # fan-out numbers its deliveries, and a write to it at every batch would wait for the
        # fan-out's transactions in turn (a row that does not match is neither locked nor
        # waited for).
        await conn.execute(
            "UPDATE webhook_endpoints SET failing_since = NULL, warned_at = NULL "
            "WHERE id = $1 AND (failing_since IS NOT NULL OR warned_at IS NOT NULL)",
            endpoint.id,
        )
        return False
    return await _failing(conn, endpoint, policy, now)


async def _failing(conn: Connection, endpoint: Endpoint, policy: Policy, now: datetime) -> bool:
    failing_since = await conn.fetchval(
        "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2) WHERE id = $1 "
        "RETURNING failing_since",
        endpoint.id,
        now,
    )
    health = endpoint_health(
        failing_since, endpoint.warned, now, policy.disable_after, policy.warn_before
    )
    if health is EndpointHealth.DISABLE:
        await disable(conn, endpoint.id, "failing")
        log.warning("webhook_endpoint_disabled", endpoint_id=str(endpoint.id), reason="failing")
        return True
    if health is EndpointHealth.WARN:
        await warn_clinic(conn, endpoint, failing_since, policy, now)
    return False


async def warn_clinic(
    conn: Connection, endpoint: Endpoint, failing_since: datetime, policy: Policy, now: datetime
) -> None:
    """A nudge to each active admin of the clinic, in the app and by e-mail as their
    preferences say, sent by the next delivery pass of nudges (infra/nudges/delivery.py). It
    names the receiver's host and the times, nothing of what was sent to it. Its key makes a
    second warning of the same failing streak (two senders at once) store nothing."""
    admins = await conn.fetch(
        "SELECT id FROM users WHERE clinic_id = $1 AND role = 'admin' "
        "AND deactivated_at IS NULL ORDER BY id",
        endpoint.clinic_id,
    )
    nudges = endpoint_failing_nudges(
        endpoint_id=endpoint.id,
        clinic_id=endpoint.clinic_id,
        host=urlsplit(endpoint.url).hostname or "",
        admins=[admin["id"] for admin in admins],
        failing_since=failing_since,
        disabled_at=failing_since + policy.disable_after,
        now=now,
    )
    origin = Origin(f"webhook-endpoint-failing-{endpoint.id}")
    await store(conn, nudges, now=now, origins=[origin] * len(nudges))
    await conn.execute("UPDATE webhook_endpoints SET warned_at = now() WHERE id = $1", endpoint.id)
    log.warning(
        "webhook_endpoint_failing",
        endpoint_id=str(endpoint.id),
        clinic_id=str(endpoint.clinic_id),
        failing_since=failing_since.isoformat(),
        admins_warned=len(nudges),
    )


async def disable(conn: Connection, endpoint_id: UUID, reason: str) -> None:
    """Stops sending: what was due waits, `held`, for a replay once it is enabled again."""
    await conn.execute(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now() "
        "WHERE id = $1",
        endpoint_id,
        reason,
    )
    await conn.execute(
        "UPDATE webhook_deliveries SET state = 'held', next_attempt_at = NULL "
        "WHERE endpoint_id = $1 AND state = 'pending'",
        endpoint_id,
    )
