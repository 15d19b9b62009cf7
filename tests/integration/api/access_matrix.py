"""Checking an access matrix through HTTP: tables of expected statuses, problem bodies, and the
database's footprint (what a request wrote)."""

from dataclasses import dataclass, fields

import asyncpg
from httpx import Response

PROBLEM_JSON = "application/problem+json"

ERROR_CODES = {401: "not_authenticated", 403: "forbidden", 404: "not_found"}


def parse_table(table: str) -> dict[str, dict[str, int]]:
    """A table of expected statuses: a header row of columns, then one row per caller."""
    header, *rows = (line.split() for line in table.strip().splitlines())
    columns = header[1:]
    parsed: dict[str, dict[str, int]] = {}
    for caller, *statuses in rows:
        if len(statuses) != len(columns) or caller in parsed:
            raise ValueError(f"malformed row for {caller!r}")
        parsed[caller] = {
            column: int(status) for column, status in zip(columns, statuses, strict=True)
        }
    return parsed


def assert_problem(response: Response, status: int, code: str) -> None:
    """An RFC 9457 problem with the given status and stable code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = response.json()
    assert body["status"] == status, body
    assert body["code"] == code, body
    assert body["type"], body
    assert body["title"], body


@dataclass(frozen=True)
class Footprint:
    """Counts that move whenever anything is written: two equal footprints mean nothing was."""

    events: int = 0
    stream_versions: int = 0
    users: int = 0
    tokens: int = 0
    live_tokens: int = 0
    care_team: int = 0
    idempotency_keys: int = 0
    invitations: int = 0

    def __sub__(self, earlier: "Footprint") -> "Footprint":
        return Footprint(
            **{
                field.name: getattr(self, field.name) - getattr(earlier, field.name)
                for field in fields(self)
            }
        )


NOTHING_WRITTEN = Footprint()


async def footprint(pool: asyncpg.Pool) -> Footprint:
    row = await pool.fetchrow(
        """
        SELECT
            (SELECT count(*) FROM events) AS events,
            (SELECT coalesce(sum(version), 0) FROM streams) AS stream_versions,
            (SELECT count(*) FROM users) AS users,
            (SELECT count(*) FROM access_tokens) AS tokens,
            (SELECT count(*) FROM access_tokens WHERE revoked_at IS NULL) AS live_tokens,
            (SELECT count(*) FROM care_team) AS care_team,
            (SELECT count(*) FROM idempotency_keys) AS idempotency_keys,
            (SELECT count(*) FROM invitations) AS invitations
        """
    )
    assert row is not None
    return Footprint(**{key: int(value) for key, value in row.items()})
