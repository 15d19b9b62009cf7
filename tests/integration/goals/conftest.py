import pytest

from infra.db.connection import Connection
from tests.integration.goals.clinics import ClinicWorld, new_clinic


@pytest.fixture
async def north(conn: Connection) -> ClinicWorld:
    return await new_clinic(conn, "north")


@pytest.fixture
async def south(conn: Connection) -> ClinicWorld:
    return await new_clinic(conn, "south")
