"""`goals migrate` and the connections that change the schema: the database, its roles, its
migrations, and projections built by this release's code."""

import asyncpg
import structlog

from infra.config import Settings
from infra.db.migrate import migrate
from infra.db.pool import create_database_if_missing, database_name, login_of
from infra.db.roles import PROJECTIONS, is_privileged
from infra.projections.rebuild import GOAL_SUMMARIES, rebuild_if_outdated
from infra.projections.registry import consumers

log = structlog.get_logger(__name__)


def _log_progress(done: int, total: int) -> None:
    log.info("projection_rebuild_progress", done=done, total=total)


async def connect_as_projections(settings: Settings) -> asyncpg.Connection:
    """The migration login acting as the projections role: what a rebuild runs as, so that the
    tables it creates belong to that role and come with the service's grants."""
    return await asyncpg.connect(
        settings.migration_database_url, server_settings={"role": PROJECTIONS}
    )


async def run_migrations(settings: Settings) -> int:
    """Creates the database if missing, makes the roles ready, applies pending migrations, and
    rebuilds the projections that this release's code builds differently; returns how many
    migrations ran."""
    if database_name(settings.migration_database_url) != database_name(settings.database_url):
        raise SystemExit("MIGRATION_DATABASE_URL and DATABASE_URL name different databases")
    if await create_database_if_missing(settings.migration_database_url):
        log.info("database_created")
    app_login, app_password = login_of(settings.database_url)
    conn = await asyncpg.connect(settings.migration_database_url)
    try:
        applied = await migrate(conn, app_login=app_login, app_password=app_password)
        if await is_privileged(conn, app_login):
            log.warning(
                "service_login_is_privileged",
                login=app_login,
                hint="DATABASE_URL should name goals_app, or a login that is only its member",
            )
    finally:
        await conn.close()
    # The workers run as the service and may not create tables: the rebuild a new projection
    # version needs is done here, where every release's deployment passes first.
    rebuilding = await connect_as_projections(settings)
    try:
        if await rebuild_if_outdated(rebuilding, _log_progress):
            log.info("projection_rebuilt")
        for consumer in consumers():
            if consumer.name == GOAL_SUMMARIES or consumer.rebuild is None:
                continue  # the summaries' version is checked above, under their rebuild lock
            built = await rebuilding.fetchval(
                "SELECT version FROM projection_versions WHERE projection = $1", consumer.name
            )
            # One never built starts at version 0 of every goal and catches up as it runs.
            if built is not None and built != consumer.version:
                await consumer.rebuild(rebuilding, _log_progress)
                log.info("projection_rebuilt", consumer=consumer.name)
    finally:
        await rebuilding.close()
    return applied
