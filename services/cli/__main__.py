"""`goals`: the operator's command line."""

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

import asyncpg
import structlog

from domain.access.people import InvalidDetail, clinic_name, normal_email
from infra.access.clinics import invite_by_email, start_clinic
from infra.access.identity import NewToken
from infra.access.invitation_mail import mail_invitation
from infra.access.invitations import NewInvitation
from infra.access.queries import User
from infra.access.sign_in_mail import sign_in_url
from infra.config import Settings, get_settings
from infra.db.connection import Connection
from infra.db.migrate import MigrationError
from infra.db.roles import RoleSetupError
from infra.local_servers import local_servers
from infra.logging import configure_logging
from infra.mail.outbox import InvalidEmail
from infra.projections.consumer import Rebuilt
from infra.projections.rebuild import GOAL_SUMMARIES
from infra.projections.registry import consumer_named, consumers
from services.cli import audit
from services.cli.demo import Demo, seed_demo
from services.cli.migrations import connect_as_projections, run_migrations
from services.cli.progress import ProgressBar
from services.cli.serve import serve_all, serve_api
from services.worker.__main__ import run_worker_service

T = TypeVar("T")
# The commands that use Redis; every command uses PostgreSQL.
USES_REDIS = ("serve", "api", "worker")

log = structlog.get_logger(__name__)


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    try:
        applied = asyncio.run(run_migrations(settings))
    except (MigrationError, RoleSetupError) as error:
        log.error("migration_refused", error=str(error))
        return 1
    log.info("migrations_current", applied=applied)
    return 0


async def _in_transaction(settings: Settings, work: Callable[[Connection], Awaitable[T]]) -> T:
    conn = await asyncpg.connect(settings.database_url)
    try:
        async with conn.transaction():
            return await work(conn)
    finally:
        await conn.close()


def _create_clinic(settings: Settings, arguments: argparse.Namespace) -> int:
    try:  # before connecting: a name or email the API would refuse is refused here too
        name, email = clinic_name(arguments.name), normal_email(arguments.admin_email)
    except InvalidDetail as error:
        print(f"goals create-clinic: {error}", file=sys.stderr)
        return 2

    async def work(conn: Connection) -> tuple[User, NewToken]:
        return await start_clinic(conn, name, email, settings.token_hash_key)

    admin, token = asyncio.run(_in_transaction(settings, work))
    print(f"clinic {admin.clinic_id} created; its first admin is {admin.id}")
    print(f"admin token (shown once, expires {token.token.expires_at:%Y-%m-%d}): {token.secret}")
    return 0


def _invite(settings: Settings, arguments: argparse.Namespace) -> int:
    async def work(conn: Connection) -> tuple[NewInvitation, bool]:
        made = await invite_by_email(
            conn, arguments.clinic, arguments.email, settings.token_hash_key
        )
        mailed = await mail_invitation(
            conn,
            made,
            clinic_id=arguments.clinic,
            to_address=normal_email(arguments.email),
            public_base_url=settings.public_base_url,
        )
        return made, mailed

    try:
        made, mailed = asyncio.run(_in_transaction(settings, work))
    except (InvalidDetail, InvalidEmail, LookupError) as error:
        print(f"goals invite: {error}", file=sys.stderr)
        return 2
    if mailed:
        print(
            f"invitation for {arguments.email.lower()}, single use, redeemable until "
            f"{made.invitation.expires_at:%Y-%m-%d %H:%M} UTC: its code is on its way by e-mail"
        )
        return 0
    print(
        f"invitation for {arguments.email.lower()}, single use, redeemable until "
        f"{made.invitation.expires_at:%Y-%m-%d %H:%M} UTC; give the user this code:"
    )
    print(made.code)
    print("which they redeem for their own token with POST /v1/invitations/redemption")
    return 0


def _demo(settings: Settings, _: argparse.Namespace) -> int:
    async def work(conn: Connection) -> Demo:
        return await seed_demo(conn, settings.token_hash_key)

    demo = asyncio.run(_in_transaction(settings, work))
    if demo.created:
        print("A demo clinic is ready. Try, for instance:")
    else:
        print(
            f"The demo clinic is already there (clinic {demo.clinic_id}): here are new tokens for"
            " its people; their earlier ones work until they expire. Try, for instance:"
        )
    client = next(user for user in demo.users if user.role == "client")
    print(
        f"  curl -H 'Authorization: Bearer {client.token}' "
        f"http://{settings.api_host}:{settings.api_port}/v1/me/goals"
    )
    for user in demo.users:
        print(f"{user.role:<10} {user.name:<18} {user.user_id}  {user.token}")
    app = settings.public_base_url or f"http://{settings.api_host}:{settings.api_port}"
    print(f"\nOr open the web app at {app}/ and sign in with a link (each works once, within")
    print("15 minutes; `goals demo` again prints new ones):")
    for user in demo.users:
        print(f"{user.role:<10} {user.name:<18} {sign_in_url(app, user.sign_in_code)}")
    return 0


def _api(settings: Settings, _: argparse.Namespace) -> int:
    return serve_api(settings)


def _worker(settings: Settings, _: argparse.Namespace) -> int:
    return asyncio.run(run_worker_service(settings))


def _serve(settings: Settings, _: argparse.Namespace) -> int:
    return serve_all()


def _rebuild(settings: Settings, arguments: argparse.Namespace) -> int:
    consumer = consumer_named(arguments.name)
    if consumer is None or consumer.rebuild is None:
        known = ", ".join(each.name for each in consumers() if each.rebuild is not None)
        print(f"unknown projection {arguments.name!r}; known: {known}")
        return 2
    rebuild = consumer.rebuild
    bar = ProgressBar(f"rebuilding {arguments.name}")

    async def work() -> Rebuilt:
        conn = await connect_as_projections(settings)
        try:
            return await rebuild(conn, bar)
        finally:
            await conn.close()

    try:
        rebuilt = asyncio.run(work())
    except KeyboardInterrupt:
        bar.close()
        print(f"{arguments.name}: rebuild interrupted; the live tables are as they were")
        return 130
    bar.close()
    print(f"{arguments.name} rebuilt: {rebuilt.goals} goals")
    for goal in rebuilt.stalled:
        print(f"goal {goal.goal_id} stalled at version {goal.version}: {goal.error}")
    if rebuilt.stalled:
        print(
            f"{len(rebuilt.stalled)} goals could not be folded; they wait in "
            f"{consumer.dead_letter_table} for a fix to the projection's code"
        )
        return 1
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="goals", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "migrate", help="create the database if missing and apply pending migrations"
    ).set_defaults(run=_migrate)
    clinic = commands.add_parser(
        "create-clinic", help="create a clinic and its first admin; prints the admin's token"
    )
    clinic.add_argument("name", help="the clinic's name")
    clinic.add_argument("--admin-email", required=True, help="the first admin's email")
    clinic.set_defaults(run=_create_clinic)
    invitation = commands.add_parser(
        "invite",
        help="invite a user of a clinic; e-mails them (or, with e-mail off, prints) the code "
        "they redeem for a token",
    )
    invitation.add_argument("email", help="the user's email")
    invitation.add_argument("--clinic", required=True, type=UUID, help="the clinic's id")
    invitation.set_defaults(run=_invite)
    commands.add_parser(
        "demo", help="seed a demo clinic with goals and check-ins; prints a token per user"
    ).set_defaults(run=_demo)
    commands.add_parser("api", help="serve the HTTP API").set_defaults(run=_api)
    commands.add_parser(
        "worker", help="run the workers and the relay that feeds them from the log"
    ).set_defaults(run=_worker)
    commands.add_parser("serve", help="run the API and the worker service together").set_defaults(
        run=_serve
    )
    projections = commands.add_parser("projections", help="manage the read models")
    projection_commands = projections.add_subparsers(dest="projection_command", required=True)
    rebuild = projection_commands.add_parser(
        "rebuild", help="replay the whole log into fresh tables and switch to them atomically"
    )
    rebuild.add_argument("name", nargs="?", default=GOAL_SUMMARIES, help="the projection")
    rebuild.set_defaults(run=_rebuild)
    audit.add_commands(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings)
    redis = arguments.command in USES_REDIS
    with local_servers(settings, os.environ, redis=redis) as servers_settings:
        return int(arguments.run(servers_settings, arguments))


if __name__ == "__main__":
    sys.exit(main())
