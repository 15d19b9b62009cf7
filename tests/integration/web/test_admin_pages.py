"""The admin's pages over HTTP: the directory (invite, edit, deactivate), care teams and the
clinic's settings. Only admins reach them, only their own clinic's people, every form needs its
CSRF token, and a refused form writes nothing."""

import asyncpg
import httpx
import pytest

from tests.integration.api.support import row_counts
from tests.integration.api.world import Clinic
from tests.integration.web.pages import Web, csrf_token, send_form, sign_in

ADMIN = "admin@north.example"
ADMIN_PAGES = ["/admin/users", "/admin/care-teams", "/admin/settings", "/admin/webhooks"]


@pytest.fixture
async def admin_web(web: Web, clinic: Clinic, pool: asyncpg.Pool) -> Web:
    await sign_in(web, pool, ADMIN)
    return web


async def _active(pool: asyncpg.Pool, user_id: object) -> bool:
    return bool(
        await pool.fetchval("SELECT deactivated_at IS NULL FROM users WHERE id = $1", user_id)
    )


async def test_an_admin_invites_someone_by_e_mail_and_the_event_names_the_admin(
    admin_web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    sent = await send_form(
        admin_web,
        "/admin/users",
        "/admin/users",
        display_name="Robin Lake",
        email="Robin.Lake@example.org",
        role="client",
    )
    assert sent.status_code == 303, sent.text
    page = await admin_web.get(sent.headers["location"])
    assert "Invitation sent" in page.text
    assert "Robin Lake" in page.text
    user = await pool.fetchrow(
        "SELECT id, time_zone FROM users WHERE email = 'robin.lake@example.org'"
    )
    assert user is not None
    mail = await pool.fetchval(
        "SELECT body_text FROM email_outbox WHERE to_address = 'robin.lake@example.org'"
    )
    assert "/invitation#code=" in mail
    actors = await pool.fetch(
        "SELECT event_type, metadata->>'actor_id' AS actor FROM events WHERE stream_id = $1"
        " ORDER BY stream_version",
        f"user-{user['id']}",
    )
    assert [row["event_type"] for row in actors][:2] == ["user_registered", "invitation_created"]
    assert {row["actor"] for row in actors} == {str(clinic.admin.id)}


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"display_name": "Twice", "email": "north.client@example.org"}, "already has a user"),
        ({"display_name": "Bad", "email": "not-an-email"}, "E-mail address"),
        ({"display_name": "", "email": "empty@example.org"}, "Name"),
        (
            {"display_name": "Zoned", "email": "z@example.org", "time_zone": "Mars/Base"},
            "time zone",
        ),
    ],
)
async def test_a_refused_invitation_says_why_and_writes_nothing(
    admin_web: Web, pool: asyncpg.Pool, fields: dict[str, str], words: str
) -> None:
    before = await row_counts(pool)
    sent = await send_form(admin_web, "/admin/users", "/admin/users", role="client", **fields)
    assert sent.status_code == 422
    assert words in sent.text
    assert await row_counts(pool) == before


async def test_an_admin_changes_a_persons_details(
    admin_web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    page = f"/admin/users/{clinic.client.id}"
    sent = await send_form(
        admin_web,
        page,
        page,
        display_name="Sam Rivers",
        email="north.client@example.org",
        time_zone="Europe/Lisbon",
    )
    assert sent.status_code == 303
    shown = await admin_web.get(sent.headers["location"])
    assert "Saved." in shown.text
    assert "Sam Rivers" in shown.text
    zone = await pool.fetchval("SELECT time_zone FROM users WHERE id = $1", clinic.client.id)
    assert zone == "Europe/Lisbon"


async def test_deactivating_someone_ends_their_open_session(
    web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    await sign_in(web, pool, "north.client@example.org")
    assert (await web.get("/my/goals")).status_code == 200
    clients_cookies = httpx.Cookies(web.cookies)
    web.cookies.clear()
    await sign_in(web, pool, ADMIN)
    page = f"/admin/users/{clinic.client.id}"
    sent = await send_form(web, page, f"{page}/deactivation")
    assert sent.status_code == 303
    assert "Deactivated" in (await web.get(sent.headers["location"])).text
    web.cookies = clients_cookies
    gone = await web.get("/my/goals")
    assert (gone.status_code, gone.headers["location"]) == (303, "/sign-in")


async def test_the_last_admin_is_not_deactivated(
    admin_web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    page = f"/admin/users/{clinic.admin.id}"
    before = await row_counts(pool)
    sent = await send_form(admin_web, page, f"{page}/deactivation")
    assert sent.status_code == 422
    assert "last active admin" in sent.text
    assert await row_counts(pool) == before


@pytest.mark.parametrize("email", ["north.therapist@example.org", "north.auditor@example.org"])
async def test_nobody_but_an_admin_reaches_the_admin_pages(
    web: Web, clinic: Clinic, pool: asyncpg.Pool, email: str
) -> None:
    await sign_in(web, pool, email)
    for path in [*ADMIN_PAGES, f"/admin/users/{clinic.client.id}"]:
        assert (await web.get(path)).status_code == 403, path
    token = csrf_token(await web.get("/sign-in"))
    before = await row_counts(pool)
    for action, fields in [
        (f"/admin/users/{clinic.client.id}/deactivation", {}),
        ("/admin/users", {"display_name": "X", "email": "x@example.org", "role": "admin"}),
        (
            "/admin/settings",
            {"active_goal_limit": "9", "default_time_zone": "UTC", "max_token_lifetime_days": "9"},
        ),
        (
            "/admin/care-teams/assignment",
            {"client_id": str(clinic.client.id), "therapist_id": str(clinic.other_therapist.id)},
        ),
    ]:
        refused = await web.post(action, data={"_csrf_token": token, **fields})
        assert refused.status_code == 403, action
    assert await row_counts(pool) == before
    assert await _active(pool, clinic.client.id)


async def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(
    admin_web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    before = await row_counts(pool)
    refused = await admin_web.post(f"/admin/users/{clinic.client.id}/deactivation", data={})
    assert refused.status_code == 403
    assert "This form had expired" in refused.text
    assert await row_counts(pool) == before


async def test_another_clinics_people_do_not_exist_for_an_admin(
    south: Clinic, admin_web: Web, pool: asyncpg.Pool
) -> None:
    directory = await admin_web.get("/admin/users")
    assert "south" not in directory.text
    assert "south" not in (await admin_web.get("/admin/care-teams")).text
    assert (await admin_web.get(f"/admin/users/{south.client.id}")).status_code == 404
    token = csrf_token(directory)
    before = await row_counts(pool)
    for action, fields in [
        (f"/admin/users/{south.client.id}/deactivation", {}),
        (f"/admin/users/{south.client.id}/invitation", {}),
        (f"/admin/users/{south.client.id}", {"display_name": "Taken"}),
    ]:
        refused = await admin_web.post(action, data={"_csrf_token": token, **fields})
        assert refused.status_code == 404, action
    assign = await admin_web.post(
        "/admin/care-teams/assignment",
        data={
            "_csrf_token": token,
            "client_id": str(south.client.id),
            "therapist_id": str(south.therapist.id),
        },
    )
    assert assign.status_code == 422
    assert "No such user" in assign.text
    assert await row_counts(pool) == before
    assert await _active(pool, south.client.id)


async def test_care_teams_take_therapists_on_and_off(
    admin_web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    pair = {"client_id": str(clinic.client.id), "therapist_id": str(clinic.other_therapist.id)}
    added = await send_form(admin_web, "/admin/care-teams", "/admin/care-teams/assignment", **pair)
    assert added.status_code == 303
    page = await admin_web.get(added.headers["location"])
    assert "Added to the care team." in page.text
    assert "Take north other_therapist off" in page.text
    team = "SELECT count(*) FROM care_team WHERE client_id = $1"
    assert await pool.fetchval(team, clinic.client.id) == 2
    removed = await send_form(
        admin_web, "/admin/care-teams", "/admin/care-teams/unassignment", **pair
    )
    assert removed.status_code == 303
    assert await pool.fetchval(team, clinic.client.id) == 1
    before = await row_counts(pool)
    wrong = {"client_id": str(clinic.client.id), "therapist_id": str(clinic.other_client.id)}
    refused = await send_form(
        admin_web, "/admin/care-teams", "/admin/care-teams/assignment", **wrong
    )
    assert refused.status_code == 422
    assert "Only therapists join a care team." in refused.text
    assert await row_counts(pool) == before


async def test_the_clinics_settings_change_and_a_bad_one_is_refused(
    admin_web: Web, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    wanted = {
        "active_goal_limit": "4",
        "default_time_zone": "Europe/Vienna",
        "max_token_lifetime_days": "120",
    }
    saved = await send_form(admin_web, "/admin/settings", "/admin/settings", **wanted)
    assert saved.status_code == 303
    assert "Saved." in (await admin_web.get(saved.headers["location"])).text
    limit = await pool.fetchval(
        "SELECT active_goal_limit FROM clinics c JOIN users u ON u.clinic_id = c.id"
        " WHERE u.id = $1",
        clinic.admin.id,
    )
    assert limit == 4
    before = await row_counts(pool)
    for bad in ({"default_time_zone": "Nowhere/Atall"}, {"active_goal_limit": "0"}):
        refused = await send_form(admin_web, "/admin/settings", "/admin/settings", **(wanted | bad))
        assert refused.status_code == 422
        assert 'class="form-error"' in refused.text
    assert await row_counts(pool) == before


HOSTILE = [
    b"display_name=%00&email=%00&role=%00&time_zone=%00&client_id=%00&active_goal_limit=%00",
    b"display_name=\xff\xfe&email=\xff&role=\xff&therapist_id=\xff&default_time_zone=\xff",
    b"active_goal_limit=1e999&max_token_lifetime_days=nan&client_id=not-a-uuid&role=root",
    b"display_name=" + b"x" * 100_000,
    b'{"display_name": "json", "email": "json@example.org", "role": "admin"}',
]


@pytest.mark.parametrize(
    "form",
    [
        "/admin/users",
        "/admin/users/{user_id}",
        "/admin/care-teams/assignment",
        "/admin/care-teams/unassignment",
        "/admin/settings",
        "/admin/webhooks",
    ],
)
async def test_no_hostile_admin_form_fails_or_writes_when_refused(
    admin_web: Web, clinic: Clinic, pool: asyncpg.Pool, form: str
) -> None:
    token = csrf_token(await admin_web.get("/admin/users"))
    path = form.format(user_id=clinic.client.id)
    for body in HOSTILE:
        before = await row_counts(pool)
        answer = await admin_web.post(
            path,
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "x-csrftoken": token,
            },
        )
        assert answer.status_code < 500, (body[:40], answer.text)
        if answer.status_code >= 400:
            assert await row_counts(pool) == before, body[:40]


async def test_the_directory_finds_people_by_name_and_role(admin_web: Web) -> None:
    def names(page: httpx.Response) -> list[str]:
        rows = page.text.split("<tbody>")[1].split("</tbody>")[0]
        links = rows.split('<a href="/admin/users/')[1:]
        return [link.split(">")[1].split("<")[0] for link in links]

    everyone = names(await admin_web.get("/admin/users"))
    assert len(everyone) == 8
    assert names(await admin_web.get("/admin/users?search=THERAPIST")) == [
        "north other_therapist",
        "north therapist",
    ]
    assert names(await admin_web.get("/admin/users?role=auditor")) == ["north auditor"]
    assert names(await admin_web.get("/admin/users?role=nonsense")) == everyone
