"""`goals demo`: a small clinic to try the API with at once.

There is one demo clinic per database: run again, `goals demo` finds it and gives its people new
tokens, rather than making a second clinic that nobody could tell from the first.
"""

import uuid
from datetime import UTC, datetime, timedelta

import msgspec

from domain.goals.commands import Actor, AddSupporter, RecordProgress, SetGoal
from domain.goals.terms import GoalTerms, Measure
from infra.access import identity
from infra.access.clinics import goal_bounds, start_clinic, system_metadata
from infra.access.invitations import invite, redeem
from infra.access.queries import User
from infra.access.web_sessions import new_link
from infra.db.connection import Connection
from infra.goals.handler import CommandContext
from infra.goals.writer import write_command

_PEOPLE = (
    ("therapist", "Dr. Rowan Ellis", "rowan.ellis"),
    ("client", "Sam Rivera", "sam.rivera"),
    ("client", "Alex Kim", "alex.kim"),
    ("supporter", "Jordan Rivera", "jordan.rivera"),
    ("auditor", "Morgan Lee", "morgan.lee"),
)
_TOKEN_LIFETIME = timedelta(days=7)
DEMO_CLINIC = "Demo clinic"
# Two `goals demo` at once: the second waits for the first's clinic, and reuses it.
_DEMO_LOCK = 0x64656D6F
_ROLE_ORDER = ("admin", "therapist", "client", "supporter", "auditor")


class DemoUser(msgspec.Struct, frozen=True):
    role: str
    name: str
    user_id: uuid.UUID
    token: str
    sign_in_code: str = ""
    """A sign-in link's secret for the web app: one use, within 15 minutes."""


class Demo(msgspec.Struct, frozen=True):
    clinic_id: uuid.UUID
    created: bool
    """False when the demo clinic was there already, and its people were given new tokens."""
    users: list[DemoUser]


async def _goal(
    conn: Connection, therapist: User, client: User, terms: GoalTerms, walks: int
) -> uuid.UUID:
    now = datetime.now(UTC)
    actor = Actor(therapist.id, "therapist")
    goal_id = uuid.uuid4()
    opened = (await goal_bounds(conn, therapist.clinic_id)).opened_at

    def context() -> CommandContext:
        return CommandContext(uuid.uuid4(), therapist.clinic_id, f"demo-{goal_id}")

    await write_command(conn, SetGoal(goal_id, client.id, terms, actor, now, opened), context())
    client_actor = Actor(client.id, "client")
    for day in range(walks):
        occurred = now - timedelta(days=2 * day + 1)
        check_in = RecordProgress(goal_id, uuid.uuid4(), 1, occurred, client_actor, now)
        await write_command(conn, check_in, context())
    return goal_id


async def _new_tokens(conn: Connection, clinic_id: uuid.UUID, hash_key: str) -> list[DemoUser]:
    rows = await conn.fetch(
        """
        SELECT id, role, display_name FROM users WHERE clinic_id = $1
        ORDER BY array_position($2::text[], role), display_name DESC
        """,
        clinic_id,
        list(_ROLE_ORDER),
    )
    metadata = system_metadata(f"demo-again-{uuid.uuid4()}")
    users = []
    for row in rows:
        token = await identity.issue_token(
            conn,
            token_id=uuid.uuid4(),
            user_id=row["id"],
            lifetime=_TOKEN_LIFETIME,
            hash_key=hash_key,
            metadata=metadata,
        )
        users.append(DemoUser(row["role"], row["display_name"], row["id"], token.secret))
    return users


async def _with_sign_in_links(
    conn: Connection, users: list[DemoUser], hash_key: str
) -> list[DemoUser]:
    """Each person with a fresh sign-in link, so that the web app can be tried at once."""
    return [
        msgspec.structs.replace(
            user, sign_in_code=(await new_link(conn, user.user_id, hash_key)).secret
        )
        for user in users
    ]


async def seed_demo(conn: Connection, hash_key: str) -> Demo:
    """The demo clinic, made if there is none yet, with a fresh token and sign-in link for each
    of its people."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _DEMO_LOCK)
    existing = await conn.fetchval(
        "SELECT id FROM clinics WHERE name = $1 ORDER BY created_at LIMIT 1", DEMO_CLINIC
    )
    if existing is not None:
        again = await _new_tokens(conn, existing, hash_key)
        return Demo(existing, created=False, users=await _with_sign_in_links(conn, again, hash_key))
    suffix = uuid.uuid4().hex[:6]
    admin, admin_token = await start_clinic(
        conn, DEMO_CLINIC, f"admin+{suffix}@demo.example", hash_key
    )
    metadata = system_metadata(f"demo-{suffix}")
    users = {}
    shown = [DemoUser("admin", admin.display_name, admin.id, admin_token.secret)]
    for role, name, handle_name in _PEOPLE:
        user = User(
            uuid.uuid4(),
            admin.clinic_id,
            role,  # type: ignore[arg-type]
            name,
            f"{handle_name}+{suffix}@demo.example",
            "Europe/London",
            datetime.now(UTC),
        )
        await identity.register_user(conn, user, metadata)
        # The path a real person takes: an invitation, redeemed by them for their own token.
        invited = await invite(
            conn, user.id, invited_by=admin.id, hash_key=hash_key, metadata=metadata
        )
        redeemed = await redeem(
            conn,
            invited.code,
            lifetime=_TOKEN_LIFETIME,
            hash_key=hash_key,
            correlation_id=f"demo-{suffix}",
        )
        if redeemed is None:
            raise RuntimeError("a fresh invitation could not be redeemed")
        users[handle_name] = user
        shown.append(DemoUser(role, name, user.id, redeemed.token.secret))
    therapist = users["rowan.ellis"]
    for client in (users["sam.rivera"], users["alex.kim"]):
        await identity.assign_therapist(conn, client.id, therapist.id, metadata)
    today = datetime.now(UTC).date()
    walking = GoalTerms(
        "Walk for 30 minutes, three times a week",
        "physical_health",
        ("health", "calm"),
        Measure("count", 3, "walks", "per_week"),
        "When I finish lunch, I will walk around the park",
        today - timedelta(days=14),
        today + timedelta(days=60),
        "high",
        "Europe/London",
    )
    date_night = msgspec.structs.replace(
        walking,
        statement="Plan a weekly evening with my partner",
        life_area="relationships",
        values=("connection",),
        measure=Measure("done", 1, "evening", "per_week"),
        cue=None,
        priority="medium",
    )
    sam = users["sam.rivera"]
    walk_goal = await _goal(conn, therapist, sam, walking, walks=4)
    await _goal(conn, therapist, sam, date_night, walks=0)
    await _goal(conn, therapist, users["alex.kim"], walking, walks=2)
    share = AddSupporter(
        walk_goal, users["jordan.rivera"].id, Actor(sam.id, "client"), datetime.now(UTC)
    )
    await write_command(conn, share, CommandContext(uuid.uuid4(), sam.clinic_id, f"demo-{suffix}"))
    return Demo(
        admin.clinic_id, created=True, users=await _with_sign_in_links(conn, shown, hash_key)
    )
