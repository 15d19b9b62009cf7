"""A clinic's webhook endpoints, as the API reads and changes them; every statement is held to
the clinic."""

from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from domain.webhooks.payload import Format
from infra.db.connection import Connection

SECRET_OVERLAP = timedelta(hours=24)

COLUMNS = (
    "id, url, event_types, format, description, enabled, disabled_reason, last_sequence, "
    "failing_since, warned_at, previous_secret_expires_at, created_at, updated_at"
)


class EndpointRow(msgspec.Struct, frozen=True):
    id: UUID
    url: str
    event_types: list[str]
    format: Format
    description: str
    enabled: bool
    disabled_reason: str | None
    last_sequence: int
    failing_since: datetime | None
    warned_at: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class Changes(msgspec.Struct, frozen=True):
    url: str | None = None
    event_types: list[str] | None = None
    format: Format | None = None
    description: str | None = None


def _row(record: object) -> EndpointRow:
    return msgspec.convert(dict(record), EndpointRow)  # type: ignore[call-overload]


class NewEndpoint(msgspec.Struct, frozen=True):
    id: UUID
    clinic_id: UUID
    url: str
    event_types: list[str]
    format: Format
    description: str
    secret: str


async def create(conn: Connection, new: NewEndpoint) -> EndpointRow:
    record = await conn.fetchrow(
        "INSERT INTO webhook_endpoints (id, clinic_id, url, event_types, format, description, "  # noqa: S608
        f"secret) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}",
        new.id,
        new.clinic_id,
        new.url,
        new.event_types,
        new.format,
        new.description,
        new.secret,
    )
    return _row(record)


async def of_clinic(conn: Connection, clinic_id: UUID) -> list[EndpointRow]:
    records = await conn.fetch(
        f"SELECT {COLUMNS} FROM webhook_endpoints "  # noqa: S608
        "WHERE clinic_id = $1 AND deleted_at IS NULL ORDER BY created_at, id",
        clinic_id,
    )
    return [_row(record) for record in records]


async def find(
    conn: Connection, clinic_id: UUID, endpoint_id: UUID, *, lock: bool = False
) -> EndpointRow | None:
    record = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM webhook_endpoints "  # noqa: S608
        "WHERE id = $1 AND clinic_id = $2 AND deleted_at IS NULL" + (" FOR UPDATE" if lock else ""),
        endpoint_id,
        clinic_id,
    )
    return None if record is None else _row(record)


async def change(
    conn: Connection, clinic_id: UUID, endpoint_id: UUID, changes: Changes
) -> EndpointRow | None:
    record = await conn.fetchrow(
        "UPDATE webhook_endpoints SET url = coalesce($3, url), "  # noqa: S608
        "event_types = coalesce($4, event_types), format = coalesce($5, format), "
        "description = coalesce($6, description), updated_at = now() "
        f"WHERE id = $1 AND clinic_id = $2 AND deleted_at IS NULL RETURNING {COLUMNS}",
        endpoint_id,
        clinic_id,
        changes.url,
        changes.event_types,
        changes.format,
        changes.description,
    )
    return None if record is None else _row(record)


async def enable(conn: Connection, clinic_id: UUID, endpoint_id: UUID) -> EndpointRow | None:
    """Sends again what comes from now on; what was held waits for a replay."""
    record = await conn.fetchrow(
        "UPDATE webhook_endpoints SET enabled = true, disabled_reason = NULL, "  # noqa: S608
        "failing_since = NULL, warned_at = NULL, updated_at = now() "
        f"WHERE id = $1 AND clinic_id = $2 AND deleted_at IS NULL RETURNING {COLUMNS}",
        endpoint_id,
        clinic_id,
    )
    return None if record is None else _row(record)


async def delete(conn: Connection, clinic_id: UUID, endpoint_id: UUID) -> bool:
    """Marks it deleted: nothing more is recorded for it, and what was is kept."""
    done = await conn.fetchval(
        "UPDATE webhook_endpoints SET deleted_at = now(), enabled = false, updated_at = now() "
        "WHERE id = $1 AND clinic_id = $2 AND deleted_at IS NULL RETURNING id",
        endpoint_id,
        clinic_id,
    )
    if done is not None:
        await conn.execute(
            "UPDATE webhook_deliveries SET state = 'held', next_attempt_at = NULL "
            "WHERE endpoint_id = $1 AND state = 'pending'",
            endpoint_id,
        )
    return done is not None


async def rotate_secret(
    conn: Connection, clinic_id: UUID, endpoint_id: UUID, secret: str
) -> datetime | None:
    """The new secret signs from now on; the one it replaces signs beside it for a day."""
    expires: datetime | None = await conn.fetchval(
        "UPDATE webhook_endpoints SET previous_secret = secret, secret = $3, "
        "previous_secret_expires_at = now() + $4, updated_at = now() "
        "WHERE id = $1 AND clinic_id = $2 AND deleted_at IS NULL "
        "RETURNING previous_secret_expires_at",
        endpoint_id,
        clinic_id,
        secret,
        SECRET_OVERLAP,
    )
    return expires
