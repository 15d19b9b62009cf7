"""Health endpoints for orchestrators, and an OpenAPI document that lists every route."""

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

# The resources docs/api.md promises.
V1_OPERATIONS = {
    ("/v1/users", "POST"),
    ("/v1/users/{user_id}", "GET"),
    ("/v1/users/{user_id}/tokens", "POST"),
    ("/v1/users", "GET"),
    ("/v1/users/{user_id}", "PATCH"),
    ("/v1/users/{user_id}/deactivation", "POST"),
    ("/v1/users/{user_id}/tokens", "GET"),
    ("/v1/users/{user_id}/tokens", "DELETE"),
    ("/v1/users/{user_id}/invitations", "POST"),
    ("/v1/invitations/redemption", "POST"),
    ("/v1/tokens/{token_id}", "DELETE"),
    ("/v1/clinic/settings", "GET"),
    ("/v1/clinic/settings", "PUT"),
    ("/v1/clients/{client_id}/therapists/{therapist_id}", "PUT"),
    ("/v1/clients/{client_id}/therapists/{therapist_id}", "DELETE"),
    ("/v1/goals", "POST"),
    ("/v1/goals/{goal_id}", "GET"),
    ("/v1/me/goals", "GET"),
    ("/v1/clients/{client_id}/goals", "GET"),
    ("/v1/goals/{goal_id}/adjustments", "POST"),
    ("/v1/goals/{goal_id}/check-ins", "POST"),
    ("/v1/goals/{goal_id}/achievement", "POST"),
    ("/v1/goals/{goal_id}/miss", "POST"),
    ("/v1/goals/{goal_id}/pause", "POST"),
    ("/v1/goals/{goal_id}/resume", "POST"),
    ("/v1/goals/{goal_id}/cancel", "POST"),
    ("/v1/goals/{goal_id}/corrections", "POST"),
    ("/v1/goals/{goal_id}/supporters/{user_id}", "POST"),
    ("/v1/goals/{goal_id}/supporters/{user_id}", "DELETE"),
    ("/v1/goals/{goal_id}/history", "GET"),
}


async def test_liveness_answers_without_credentials(api: AsyncTestClient[Litestar]) -> None:
    response = await api.get("/health/live")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readiness_reports_the_database_and_its_migrations(
    api: AsyncTestClient[Litestar],
) -> None:
    response = await api.get("/health/ready")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert (checks["database"], checks["migrations"]) == ("ok", "ok")
    # No worker service runs here: a relay that never passed degrades, but leaves it ready.
    assert checks["relay"] == "not started: no pass recorded"
    assert response.json()["status"] == "degraded"


async def test_the_openapi_document_lists_every_v1_route(api: AsyncTestClient[Litestar]) -> None:
    response = await api.get("/schema/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = {
        (re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path), method)
        for route in api.app.routes
        if route.path.startswith("/v1/")
        for method in getattr(route, "methods", ())
        if method not in {"HEAD", "OPTIONS"}
    }
    assert served >= V1_OPERATIONS
    assert {item for item in documented if item[0].startswith("/v1/")} == served
    assert {("/health/live", "GET"), ("/health/ready", "GET")} <= documented
    assert "bearer" in document["components"]["securitySchemes"]
    assert document["security"] == [{"bearer": []}]
