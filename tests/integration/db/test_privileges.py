"""The service's role may read and append to the log and keep its consumers' tables, and nothing
more: no way around the log's append-only triggers, no schema changes, no other role."""

import uuid

import pytest

from infra.db.connection import Connection
from infra.db.roles import APP, OWNER, PROJECTIONS
from infra.eventstore.store import append, read_stream
from infra.projections.goal_summaries import project_goal
from infra.projections.rebuild import rebuild_goal_summaries
from tests.integration.db.privileges import assert_refused
from tests.integration.eventstore.events import new_event
from tests.integration.projections.goals import goal_with_check_ins

# Each is a way to change or lose what the log holds, or to make one.
FORBIDDEN = [
    "UPDATE events SET event_type = 'rewritten'",
    "DELETE FROM events",
    "TRUNCATE events",
    "DELETE FROM streams",
    "ALTER TABLE events DISABLE TRIGGER events_append_only",
    "UPDATE access_log SET status = 200",
    "DELETE FROM access_log",
    "TRUNCATE access_log",
    "ALTER TABLE access_log DISABLE TRIGGER access_log_append_only",
    "DROP TRIGGER events_append_only ON events",
    "ALTER TABLE events OWNER TO CURRENT_USER",
    "CREATE OR REPLACE FUNCTION refuse_event_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    "SET session_replication_role = replica",
    "DROP TABLE events",
    "DROP TABLE goal_summaries",
    "TRUNCATE goal_summaries",
    "CREATE TABLE events_copy (LIKE events)",
    "ALTER TABLE goal_summaries RENAME TO goal_summaries_old",
    f"SET ROLE {OWNER}",
    f"SET ROLE {PROJECTIONS}",
    f"GRANT {OWNER} TO CURRENT_USER",
    "CREATE ROLE intruder LOGIN SUPERUSER",
]


async def _log(conn: Connection, stream: str) -> list[tuple[str, str]]:
    return [(item.event_type, item.data) for item in await read_stream(conn, stream)]


@pytest.mark.parametrize("statement", FORBIDDEN)
async def test_the_service_cannot_change_the_log_or_the_schema(
    module_conn: Connection, statement: str
) -> None:
    """Each statement is tried and rolled back on the module's database, on a stream of its
    own."""
    stream = f"s-{uuid.uuid4().hex}"
    await append(module_conn, stream, 0, [new_event("kept")])
    before = await _log(module_conn, stream)

    await assert_refused(module_conn, statement)

    assert await _log(module_conn, stream) == before


async def test_the_rebuild_cannot_change_the_log_either(rebuild_conn: Connection) -> None:
    for statement in FORBIDDEN[:13]:
        await assert_refused(rebuild_conn, statement)


async def test_the_service_owns_nothing_and_may_create_nothing(admin_conn: Connection) -> None:
    login = await admin_conn.fetchval(
        "SELECT rolname FROM pg_roles WHERE pg_has_role(rolname, $1, 'MEMBER') "
        "AND rolcanlogin AND rolname <> $1 AND NOT rolsuper",
        APP,
    )
    service = await admin_conn.fetchrow(
        """
        SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,
               has_schema_privilege(rolname, 'public', 'CREATE') AS may_create,
               pg_has_role(rolname, $2, 'MEMBER') OR pg_has_role(rolname, $3, 'MEMBER')
                   AS acts_as_an_owner
        FROM pg_roles WHERE rolname = $1
        """,
        login,
        OWNER,
        PROJECTIONS,
    )
    owners = await admin_conn.fetch(
        """
        SELECT c.relname, c.relowner::regrole::text AS owner FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S', 'v', 'm')
        UNION ALL
        SELECT p.proname, p.proowner::regrole::text FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace
        """
    )

    assert login is not None
    assert service is not None
    assert not any(service.values())
    by_owner = {row["relname"]: row["owner"] for row in owners}
    projection_tables = {"goal_summaries", "goal_check_ins", "projection_dead_letters"}
    assert {name: by_owner[name] for name in projection_tables} == dict.fromkeys(
        projection_tables, PROJECTIONS
    )
    assert {owner for name, owner in by_owner.items() if name not in projection_tables} == {OWNER}


async def test_after_a_rebuild_the_service_still_reads_and_projects(
    conn: Connection, rebuild_conn: Connection
) -> None:
    rebuilt_goal = await goal_with_check_ins(conn, 2)
    await rebuild_goal_summaries(rebuild_conn, lambda done, total: None)
    later_goal = await goal_with_check_ins(conn, 1)

    progressed = await project_goal(conn, later_goal)

    assert progressed.applied == 2
    versions = await conn.fetch("SELECT goal_id, version FROM goal_summaries")
    assert {row["goal_id"]: row["version"] for row in versions} == {rebuilt_goal: 3, later_goal: 2}
    assert await conn.fetchval("SELECT count(*) FROM goal_check_ins") == 3
    owners = await conn.fetch(
        "SELECT DISTINCT relowner::regrole::text AS owner FROM pg_class "
        "WHERE relname IN ('goal_summaries', 'goal_check_ins')"
    )
    assert [row["owner"] for row in owners] == [PROJECTIONS]
