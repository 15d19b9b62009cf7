"""The service may change of a person, a clinic or an invitation only what editing,
deactivation, settings and redemption change: never a role, a clinic, a code or a creation."""

import pytest

from infra.db.connection import Connection
from tests.integration.db.privileges import assert_refused

REFUSED = [
    "UPDATE users SET role = 'admin'",
    "UPDATE users SET clinic_id = gen_random_uuid()",
    "UPDATE users SET created_at = now()",
    "DELETE FROM users",
    "UPDATE clinics SET name = 'renamed'",
    "DELETE FROM clinics",
    "UPDATE invitations SET code_hash = '\\x00'",
    "UPDATE invitations SET user_id = gen_random_uuid()",
    "UPDATE invitations SET expires_at = now() + interval '1 year'",
    "DELETE FROM invitations",
    "DELETE FROM access_tokens",
]

ALLOWED = [
    "UPDATE users SET display_name = display_name, email = email, time_zone = time_zone, "
    "deactivated_at = deactivated_at",
    "UPDATE clinics SET active_goal_limit = active_goal_limit, "
    "default_time_zone = default_time_zone, max_token_lifetime_days = max_token_lifetime_days",
    "UPDATE invitations SET redeemed_at = redeemed_at, withdrawn_at = withdrawn_at",
    "SELECT FROM clinics FOR NO KEY UPDATE",
]


@pytest.mark.parametrize("statement", REFUSED)
async def test_the_service_cannot_change_who_someone_is(
    module_conn: Connection, statement: str
) -> None:
    await assert_refused(module_conn, statement)


@pytest.mark.parametrize("statement", ALLOWED)
async def test_the_service_may_change_what_it_manages(
    module_conn: Connection, statement: str
) -> None:
    attempt = module_conn.transaction()
    await attempt.start()
    try:
        await module_conn.execute(statement)
    finally:
        await attempt.rollback()
