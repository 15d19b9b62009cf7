"""The database roles the service runs under, made ready by `goals migrate`.

- `goals_owner` owns the schema: the event log, its triggers, every table. Migrations run as it.
  It has no login; the migration login acts as it.
- `goals_projections` owns the goal projection's tables, so that a rebuild may create fresh ones
  and switch them in; to everything else, the log included, it may do only what the service may.
- `goals_app` is what the API and the workers run as: it may read and append to the log and keep
  each consumer's own tables, and nothing more (grants in migration 0004). `DATABASE_URL` names it
  or another login, which is then made a member of it.

None of them is a superuser or may create in the schema, so none can lift the log's append-only
triggers (`ALTER TABLE ... DISABLE TRIGGER` needs the owner, `session_replication_role` a
superuser). Roles belong to the whole server, not to one database: every database migrated on
the server shares them, and each one's grants stay in that database.
"""

import asyncpg
import structlog

from infra.db.connection import Connection

log = structlog.get_logger(__name__)

OWNER = "goals_owner"
PROJECTIONS = "goals_projections"
APP = "goals_app"


class RoleSetupError(Exception):
    pass


async def ensure_role(
    conn: Connection, name: str, *, login: bool, password: str | None = None
) -> bool:
    """Creates the role unless it exists; True if this call created it.

    A role that exists is left as it is: an operator may have set its password or attributes.
    Another database being migrated on the same server may create it at the same moment; its
    creation counts as ours.
    """
    if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name):
        return False
    statement = await conn.fetchval(
        "SELECT format('CREATE ROLE %I ' || $2 || CASE WHEN $3::text IS NULL THEN '' "
        "ELSE format(' PASSWORD %L', $3::text) END, $1::text)",
        name,
        "LOGIN" if login else "NOLOGIN",
        password,
    )
    try:
        await conn.execute(statement)
    except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
        return False  # created by a concurrent migration between our look and our create
    except asyncpg.InsufficientPrivilegeError as error:
        raise RoleSetupError(
            f"cannot create the role {name}: {error}; give the migration login CREATEROLE, or "
            "create the roles beforehand (docs/configuration.md shows the SQL)"
        ) from None
    log.info("database_role_created", role=name)
    return True


async def ensure_member(conn: Connection, role: str, member: str) -> bool:
    """Makes `member` a member of `role` unless it is one already; True if this call did."""
    already = await conn.fetchval("SELECT pg_has_role($2::text, $1::text, 'MEMBER')", role, member)
    if already:
        return False
    grant = await conn.fetchval("SELECT format('GRANT %I TO %I', $1::text, $2::text)", role, member)
    # A concurrent migration of another database may grant it between our look and our grant.
    # PostgreSQL 15 then refuses ours as a duplicate; 16 and later let it through as a no-op and
    # say so in a notice, the only sign that this call granted nothing.
    notices: list[asyncpg.PostgresLogMessage] = []

    def heard(_: object, message: asyncpg.PostgresLogMessage) -> None:
        notices.append(message)

    conn.add_log_listener(heard)
    try:
        await conn.execute(grant)
    except asyncpg.UniqueViolationError:
        return False
    finally:
        conn.remove_log_listener(heard)
    # asyncpg hands notices to listeners in the order they came, before the command's result.
    return not notices


async def prepare_roles(
    conn: Connection, app_login: str = APP, app_password: str | None = None
) -> None:
    """The three roles and `app_login` exist, and the connected login may act as the owner."""
    await ensure_role(conn, OWNER, login=False)
    await ensure_role(conn, PROJECTIONS, login=False)
    await ensure_role(conn, APP, login=True, password=app_password if app_login == APP else None)
    if app_login != APP:
        await ensure_role(conn, app_login, login=True, password=app_password)
        await ensure_member(conn, APP, app_login)
    # The owner may hand tables to the projections role; that role may do what the service may.
    await ensure_member(conn, PROJECTIONS, OWNER)
    await ensure_member(conn, APP, PROJECTIONS)
    if not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        await ensure_member(conn, OWNER, await conn.fetchval("SELECT current_user"))


_SCHEMA_RIGHTS = f"""
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO {OWNER}, {PROJECTIONS};
"""

# What earlier releases created as the migration login itself, owned by it (nothing, when the
# login is the owner). Indexes, and sequences that belong to a column, follow their table.
_OWNED_BY_LOGIN = """
SELECT format('ALTER %s %s OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                             WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
              c.oid::regclass, $1::text) AS statement
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND current_user <> $1::text
  AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
UNION ALL
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, $1::text)
FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace AND current_user <> $1::text
  AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
"""


async def hand_schema_to_owner(conn: Connection) -> None:
    """Only the owner and the projections role may create in the schema, and what the login
    created itself (a database migrated before these roles existed) passes to the owner."""
    await conn.execute(_SCHEMA_RIGHTS)
    for row in await conn.fetch(_OWNED_BY_LOGIN, OWNER):
        await conn.execute(row["statement"])


async def is_privileged(conn: Connection, login: str) -> bool:
    """Whether `login` can do more than the service needs: a superuser, or acting as an owner."""
    return bool(
        await conn.fetchval(
            """
            SELECT rolsuper OR pg_has_role(rolname, $2::text, 'MEMBER')
                   OR pg_has_role(rolname, $3::text, 'MEMBER')
            FROM pg_roles WHERE rolname = $1
            """,
            login,
            OWNER,
            PROJECTIONS,
        )
    )
