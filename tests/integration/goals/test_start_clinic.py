"""A clinic started from the command line: its admin's email is checked and kept in lower case,
as the API keeps it."""

import pytest

from domain.access.people import InvalidDetail
from infra.access.clinics import start_clinic
from infra.db.connection import Connection


async def test_the_first_admins_email_is_kept_in_lower_case(conn: Connection) -> None:
    admin, _ = await start_clinic(conn, "  North  ", "Admin@North.Example", "key")

    assert admin.email == "admin@north.example"
    stored = await conn.fetchrow(
        "SELECT u.email, c.name FROM users u JOIN clinics c ON c.id = u.clinic_id WHERE u.id = $1",
        admin.id,
    )
    assert stored is not None
    assert (stored["email"], stored["name"]) == ("admin@north.example", "North")


@pytest.mark.parametrize(("name", "email"), [("", "a@north.example"), ("North", "north")])
async def test_a_name_or_email_the_api_refuses_starts_nothing(
    conn: Connection, name: str, email: str
) -> None:
    with pytest.raises(InvalidDetail):
        await start_clinic(conn, name, email, "key")

    assert await conn.fetchval("SELECT count(*) FROM clinics") == 0
