"""What the privilege tests share: a statement tried as a role, and never kept."""

import asyncpg
import pytest

from infra.db.connection import Connection


async def assert_refused(conn: Connection, statement: str) -> None:
    """Asserts the statement is refused; rolled back if it was not, since roles outlive tests."""
    attempt = conn.transaction()
    await attempt.start()
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)
    finally:
        await attempt.rollback()
