"""How far back a goal may start is the clinic's: up to a year before the clinic came to the
service, so that a clinic can bring the goals it already kept, and no further."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db.connection import Connection
from tests.integration.api.support import assert_problem, clinic_id_of, row_counts
from tests.integration.api.world import Clinic, goal_body

CLIENTS_ZONE = ZoneInfo("Europe/Berlin")  # every person of the test clinics lives there


async def _opened_years_ago(
    api: AsyncTestClient[Litestar], clinic: Clinic, admin_conn: Connection, years: int
) -> date:
    """Back-dates the clinic's arrival, as a clinic that has used the service for years; the day
    it opened in its clients' time zone."""
    clinic_id = await clinic_id_of(api, clinic.admin)
    opened: datetime = await admin_conn.fetchval(
        "UPDATE clinics SET created_at = now() - make_interval(years => $2) WHERE id = $1 "
        "RETURNING created_at",
        clinic_id,
        years,
    )
    return opened.astimezone(CLIENTS_ZONE).date()


def _year_before(day: date) -> date:
    return (
        day.replace(year=day.year - 1) if (day.month, day.day) != (2, 29) else day - timedelta(366)
    )


async def _set(api: AsyncTestClient[Litestar], clinic: Clinic, start: date) -> Response:
    return await api.post(
        "/v1/goals",
        json=goal_body(client_id=str(clinic.client.id), start_date=start.isoformat()),
        headers=clinic.therapist.headers,
    )


async def test_a_clinic_of_some_years_sets_goals_from_a_year_before_it_opened(
    api: AsyncTestClient[Litestar], clinic: Clinic, admin_conn: Connection
) -> None:
    earliest = _year_before(await _opened_years_ago(api, clinic, admin_conn, years=3))

    response = await _set(api, clinic, earliest)

    assert response.status_code == 201, response.text
    goal_id = response.json()["goal_id"]
    # The goal's check-ins reach as far back as its start.
    first_day = datetime.combine(earliest, datetime.min.time(), CLIENTS_ZONE) + timedelta(hours=9)
    checked = await api.post(
        f"/v1/goals/{goal_id}/check-ins",
        json={"occurred_at": first_day.isoformat()},
        headers=clinic.client.headers,
    )
    assert checked.status_code == 200, checked.text


async def test_a_start_before_that_is_refused_with_the_rule_and_writes_nothing(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool, admin_conn: Connection
) -> None:
    opened = await _opened_years_ago(api, clinic, admin_conn, years=3)
    earliest = _year_before(opened)
    before = await row_counts(pool)

    response = await _set(api, clinic, earliest - timedelta(days=1))

    problem = assert_problem(response, 422, "start_too_early")
    assert [error["field"] for error in problem["errors"]] == ["start_date"]
    assert f"before the clinic opened on {opened.isoformat()}" in problem["detail"]
    assert f"on {earliest.isoformat()} or later" in problem["detail"]
    assert await row_counts(pool) == before


async def test_each_clinic_has_its_own_earliest_start(
    api: AsyncTestClient[Litestar], clinic: Clinic, other_clinic: Clinic, admin_conn: Connection
) -> None:
    """The clinic opened today still allows a year back from today, and no more."""
    two_years_back = datetime.now(UTC).date() - timedelta(days=2 * 365)
    await _opened_years_ago(api, clinic, admin_conn, years=3)

    old = await _set(api, clinic, two_years_back)
    new = await _set(api, other_clinic, two_years_back)

    assert old.status_code == 201, old.text
    assert_problem(new, 422, "start_too_early")
