"""The service may store nudges, move them through their states and mark them read; it may not
delete one, nor change what one says or to whom."""

import asyncpg
import pytest

from infra.db.connection import Connection


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM nudges",
        "UPDATE nudges SET message = 'changed'",
        "UPDATE nudges SET recipient_id = gen_random_uuid()",
        "UPDATE nudges SET key = 'another'",
        "DELETE FROM notification_preferences",
        "TRUNCATE nudges",
    ],
)
async def test_the_service_cannot_rewrite_what_was_said(conn: Connection, statement: str) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute(statement)


async def test_the_service_moves_nudges_through_their_states(conn: Connection) -> None:
    await conn.execute(
        "UPDATE nudges SET status = 'sent', sent_at = now(), channels = '{in_app}', "
        "read_at = now(), deliver_at = now(), dropped_reason = NULL"
    )
