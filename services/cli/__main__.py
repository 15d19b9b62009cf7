"""`goals`: the operator's command line."""

import argparse
import asyncio
import sys

import asyncpg
import structlog

from infra.config import Settings, get_settings
from infra.db.migrate import MigrationError, migrate
from infra.db.pool import create_database_if_missing
from infra.logging import configure_logging

log = structlog.get_logger(__name__)


async def run_migrations(settings: Settings) -> int:
    if await create_database_if_missing(settings.database_url):
        log.info("database_created")
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    try:
        applied = asyncio.run(run_migrations(settings))
    except MigrationError as error:
        log.error("migration_refused", error=str(error))
        return 1
    log.info("migrations_current", applied=applied)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="goals", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "migrate", help="create the database if missing and apply pending migrations"
    ).set_defaults(run=_migrate)
    return root


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings)
    return int(arguments.run(settings, arguments))


if __name__ == "__main__":
    sys.exit(main())
