"""Sending the stored nudges that are due: the one place a nudge goes out.

Each batch is one transaction: the due nudges are taken with FOR UPDATE SKIP LOCKED, the pure
plan (domain/nudges/delivery.py) decides each one with the person's preferences and what they
were sent today, and the rows, their `NudgeSent`/`NudgeDropped` events and their e-mails are
written together. A worker killed mid-batch wrote none of it, and the next pass finds the same
nudges pending; one that committed left nothing pending to send again. Only the scanner runs
this, one at a time (infra/nudges/scanner.py), which keeps the daily cap exact.
"""

import uuid
from collections import defaultdict
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from domain.nudges.delivery import Decision, Defer, Drop, Pending, Send, plan
from domain.nudges.events import NudgeDropped, NudgeSent
from infra.db.connection import Connection
from infra.eventstore.envelope import Metadata, NewEvent
from infra.eventstore.store import PendingAppend, append_batch
from infra.nudges.email import EmailChannel, queue_nudge_email
from infra.nudges.preferences import PREFERENCE_COLUMNS, preferences_of

BATCH = 5_000

_DUE = f"""
SELECT n.id, n.key, n.kind, n.recipient_id, n.clinic_id, n.goal_id, n.deliver_at, n.stale_at,
    n.correlation_id, n.causation_id, u.email AS address, u.deactivated_at, u.time_zone,
    {PREFERENCE_COLUMNS},
    (SELECT count(*) FROM nudges s
     WHERE s.recipient_id = n.recipient_id AND s.status = 'sent'
        AND s.sent_at >= date_trunc('day', $1 AT TIME ZONE u.time_zone) AT TIME ZONE u.time_zone
    ) AS sent_today
FROM nudges n
JOIN users u ON u.id = n.recipient_id
LEFT JOIN notification_preferences p ON p.user_id = n.recipient_id
WHERE n.status = 'pending' AND n.deliver_at <= $1
ORDER BY n.deliver_at, n.id
LIMIT $2
FOR UPDATE OF n SKIP LOCKED
"""  # noqa: S608 - a constant column list

_SENT = """
UPDATE nudges n SET status = 'sent', sent_at = $3, channels = string_to_array(d.channels, ',')
FROM unnest($1::uuid[], $2::text[]) AS d (id, channels) WHERE n.id = d.id
"""
_DEFERRED = """
UPDATE nudges n SET deliver_at = d.until
FROM unnest($1::uuid[], $2::timestamptz[]) AS d (id, until) WHERE n.id = d.id
"""
_DROPPED = """
UPDATE nudges n SET status = 'dropped', dropped_reason = d.reason
FROM unnest($1::uuid[], $2::text[]) AS d (id, reason) WHERE n.id = d.id
"""

_encode = msgspec.json.Encoder().encode


class Delivered(msgspec.Struct):
    sent: int = 0
    deferred: int = 0
    dropped: int = 0

    def add(self, other: "Delivered") -> None:
        self.sent += other.sent
        self.deferred += other.deferred
        self.dropped += other.dropped


def nudge_stream(nudge_id: UUID) -> str:
    return f"nudge-{nudge_id}"


def _pending(row: asyncpg.Record) -> Pending:
    return Pending(row["id"], row["kind"], row["goal_id"], row["deliver_at"], row["stale_at"])


def _decide(rows: list[asyncpg.Record], now: datetime, *, email_on: bool) -> list[Decision]:
    """Without an e-mail channel, e-mail counts as off for everyone: a nudge goes in-app, or,
    for someone who turned the inbox off, is dropped."""
    by_recipient: dict[UUID, list[asyncpg.Record]] = defaultdict(list)
    for row in rows:
        by_recipient[row["recipient_id"]].append(row)
    decisions: list[Decision] = []
    for recipient_rows in by_recipient.values():
        first = recipient_rows[0]
        if first["deactivated_at"] is not None:
            decisions += [Drop(row["id"], "recipient_deactivated") for row in recipient_rows]
            continue
        pending = [_pending(row) for row in recipient_rows]
        preferences = preferences_of(first)
        if not email_on:
            preferences = msgspec.structs.replace(preferences, email=False)
        decisions += plan(pending, preferences, first["sent_today"], now)
    return decisions


def _event(row: asyncpg.Record, decision: Send | Drop) -> NewEvent:
    common = (row["id"], row["key"], row["kind"], row["recipient_id"], row["goal_id"])
    event: NudgeSent | NudgeDropped
    if isinstance(decision, Send):
        event, reason = NudgeSent(*common, decision.channels), f"{row['kind']} due"
    else:
        event, reason = NudgeDropped(*common, decision.reason), decision.reason
    tag = str(type(event).__struct_config__.tag)
    return NewEvent(
        # From the nudge and what happened to it: a retried batch appends the same event.
        event_id=uuid.uuid5(row["id"], tag),
        event_type=tag,
        data=_encode(event).decode(),
        metadata=Metadata(
            actor_id=None,
            actor_role="system",
            clinic_id=row["clinic_id"],
            correlation_id=row["correlation_id"],
            causation_id=row["causation_id"],
            reason=reason,
        ),
    )


async def _record(
    conn: Connection, rows: dict[UUID, asyncpg.Record], decided: list[Send | Drop]
) -> None:
    streams = [nudge_stream(decision.nudge_id) for decision in decided]
    versions = {
        row["stream_id"]: row["version"]
        for row in await conn.fetch(
            "SELECT stream_id, version FROM streams WHERE stream_id = ANY($1::text[])", streams
        )
    }
    appends = [
        PendingAppend(stream, versions.get(stream, 0), [_event(rows[decision.nudge_id], decision)])
        for stream, decision in zip(streams, decided, strict=True)
    ]
    for result in await append_batch(conn, appends):
        if isinstance(result, Exception):
            raise result


async def _by_mail(
    conn: Connection, email: EmailChannel, row: asyncpg.Record, decision: Send
) -> Send | Drop:
    """Queues the nudge's e-mail if it goes by e-mail; the channels it then went by are those
    that carried it: e-mail is left out where mail cannot use the address, and a nudge that
    nothing carried is dropped."""
    if "email" not in decision.channels:
        return decision
    queued = await queue_nudge_email(
        conn,
        email,
        nudge_id=row["id"],
        clinic_id=row["clinic_id"],
        user_id=row["recipient_id"],
        to_address=row["address"],
    )
    if queued:
        return decision
    used = tuple(channel for channel in decision.channels if channel != "email")
    return Send(decision.nudge_id, used) if used else Drop(decision.nudge_id, "no_usable_channel")


async def deliver_batch(
    conn: Connection, now: datetime, email: EmailChannel | None, limit: int = BATCH
) -> Delivered:
    """Decides the due nudges of one batch, in one transaction; nothing left means done."""
    async with conn.transaction():
        rows = await conn.fetch(_DUE, now, limit)
        if not rows:
            return Delivered()
        by_id = {row["id"]: row for row in rows}
        decisions = _decide(rows, now, email_on=email is not None)
        if email is not None:
            decisions = [
                await _by_mail(conn, email, by_id[decision.nudge_id], decision)
                if isinstance(decision, Send)
                else decision
                for decision in decisions
            ]
        sent = [decision for decision in decisions if isinstance(decision, Send)]
        deferred = [decision for decision in decisions if isinstance(decision, Defer)]
        dropped = [decision for decision in decisions if isinstance(decision, Drop)]
        if sent:
            channels = [",".join(decision.channels) for decision in sent]
            await conn.execute(_SENT, [decision.nudge_id for decision in sent], channels, now)
        if deferred:
            until = [decision.until for decision in deferred]
            await conn.execute(_DEFERRED, [decision.nudge_id for decision in deferred], until)
        if dropped:
            reasons = [decision.reason for decision in dropped]
            await conn.execute(_DROPPED, [decision.nudge_id for decision in dropped], reasons)
        await _record(conn, by_id, [*sent, *dropped])
        return Delivered(len(sent), len(deferred), len(dropped))


async def deliver_due(conn: Connection, now: datetime, email: EmailChannel | None) -> Delivered:
    """Every nudge due at `now`, batch after batch."""
    total = Delivered()
    while True:
        delivered = await deliver_batch(conn, now, email)
        total.add(delivered)
        if delivered == Delivered():
            return total
