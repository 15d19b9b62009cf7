"""Every page that shows goal data is access-logged, as every API read is."""

from services.api.app import create_app
from services.api.audit.subject import ACCESS_LOGGED
from tests.integration.api.test_access_log import get_routes
from tests.integration.api.world import app_settings

# Pages that show no goal data, and why: each page not named here must be access-logged.
PAGES_FREE_OF_GOAL_DATA = {
    "/": "where signing in leads: the person's own name and their role's pages",
    "/sign-in": "a form for an e-mail address",
    "/sign-in/sent": "says a link may be on its way",
    "/sign-in/link": "a button that uses the link",
    "/invitation": "a form for an invitation code",
    "/nudges": "the person's own nudges, as GET /v1/me/nudges (not access-logged) gives them",
    "/nudges/{nudge_id}": "one of the person's own nudges, where a nudge e-mail's link leads",
    "/admin/users": "the clinic's people: names, e-mail addresses, roles",
    "/admin/users/{user_id}": "one person's details",
    "/admin/care-teams": "which therapists look after which clients",
    "/admin/settings": "the clinic's settings",
    "/admin/webhooks": "the clinic's webhook endpoints",
    "/admin/webhooks/{endpoint_id}/deliveries": "what was sent where, by event type and id",
    "/audit": "a form for a goal's id, and whether the log's hash chains hold",
    "/audit/goals": "sends the form on to the goal's history page",
    "/audit/access-log": "who read goal data, as GET /v1/audit/access-log (not logged either)",
}

# Each access-logged page, and the test of its access record.
LOGGED_PAGES_TESTED = {
    "/my/goals",  # test_my_goals.py
    "/my/goals/{goal_id}",  # test_client_goal_page.py
    "/my/goals/new",  # test_client_new_goal.py
    "/my/notifications",  # test_client_settings.py
    "/my/access-log",  # test_client_settings.py
    "/audit/goals/{goal_id}/history",  # test_auditor_pages.py
    "/caseload",  # test_therapist_pages.py
    "/caseload/clients/{client_id}",  # test_therapist_pages.py
    "/caseload/clients/{client_id}/goals/new",  # test_therapist_new_goal.py
    "/shared/goals",  # test_partner_pages.py
}


def test_every_page_is_access_logged_or_shows_no_goal_data(database_url: str) -> None:
    pages = get_routes(create_app(app_settings(database_url)), pages=True)
    logged = {path for path, handler in pages.items() if handler.opt.get(ACCESS_LOGGED)}
    assert set(pages) - logged == set(PAGES_FREE_OF_GOAL_DATA), (
        "a page must be access-logged (opt ACCESS_LOGGED) or named in PAGES_FREE_OF_GOAL_DATA"
    )
    assert logged == LOGGED_PAGES_TESTED, "test the access record of every logged page"
