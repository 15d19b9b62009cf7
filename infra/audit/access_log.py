"""The access log: who read which client's goals, when, how, and with what outcome.

Records are appended in batches: the records of requests that answer at the same time go to
PostgreSQL in one INSERT, one commit (infra/db/batches.py), and each request's answer waits for
its record's commit. So a read costs one shared round trip more, not one commit each, and a
process killed after answering has already committed the record of every answer it sent.
"""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from infra.db.connection import Connection


class AccessRecord(msgspec.Struct, frozen=True, gc=False):
    requested_at: datetime
    method: str
    route: str
    """The route's template, e.g. `/v1/goals/{goal_id:uuid}`: what was read, whatever the ids."""
    path: str
    status: int
    correlation_id: str
    clinic_id: UUID | None = None
    user_id: UUID | None = None
    token_id: UUID | None = None
    role: str | None = None
    client_ids: tuple[UUID, ...] = ()
    goal_ids: tuple[UUID, ...] = ()


_COLUMNS = (
    "requested_at timestamptz, method text, route text, path text, status smallint, "
    "correlation_id text, clinic_id uuid, user_id uuid, token_id uuid, role text, "
    "client_ids uuid[], goal_ids uuid[]"
)
_NAMES = ", ".join(column.split()[0] for column in _COLUMNS.split(", "))

# One statement for the whole batch: one row per record, in the order given.
_APPEND = f"""
INSERT INTO access_log ({_NAMES})
SELECT {_NAMES} FROM jsonb_to_recordset($1::jsonb) AS r ({_COLUMNS})
"""  # noqa: S608 - constant fragments

_encoder = msgspec.json.Encoder()


async def append_access_records(
    conn: Connection, records: list[AccessRecord]
) -> Sequence[Exception | None]:
    """Appends the records in one statement (its own transaction): all of them or none."""
    await conn.execute(_APPEND, _encoder.encode(records).decode())
    return [None] * len(records)
