"""The web app's part of the one Litestar application: its router (pages at `/`, beside the
JSON API under `/v1`), templates, assets, and how its refusals read (docs/web.md)."""

from pathlib import Path

from litestar import Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from infra.config import Settings
from services.api.auth import SIGNED_IN_BY_COOKIE
from services.api.errors import Problem
from services.web import (
    admin,
    auditor,
    client_access_log,
    client_goal,
    client_new_goal,
    client_nudges,
    client_preferences,
    my_goals,
    sign_in,
)
from services.web.partner import shared_goals
from services.web.security import csrf_config
from services.web.therapist import caseload, client, new_goal
from services.web.viewer import NotSignedIn, provide_viewer

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

_WORDS = {
    400: "Something in that request was not quite right. Please go back and try again.",
    403: "That is not something this account can do.",
    404: "We could not find that page. It may have moved, or it may not be yours to see.",
}
EXPIRED_FORM = (
    "This form had expired, so nothing was changed. Please go back, reload the page and try again."
)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine)


def _not_signed_in(request: Request, _: NotSignedIn) -> Response[str] | Redirect:
    if request.headers.get("hx-request") == "true":
        return ClientRedirect("/sign-in")
    return Redirect("/sign-in", status_code=303)


def _error_page(status: int, words: str) -> Template:
    return Template("error.html", context={"status": status, "words": words}, status_code=status)


def _refused(_: Request, error: Problem) -> Template:
    return _error_page(error.status, _WORDS.get(error.status, str(error)))


def _expired_form(_: Request, __: PermissionDeniedException) -> Template:
    return _error_page(403, EXPIRED_FORM)


def _http_error(_: Request, error: HTTPException) -> Template:
    status = error.status_code
    return _error_page(status, _WORDS.get(status, "Something went wrong. Please try again."))


def web_router(settings: Settings) -> Router:
    """Every page, each signed in by the session cookie, each form checked for its CSRF token."""
    return Router(
        "/",
        route_handlers=[
            *sign_in.ROUTES,
            *my_goals.ROUTES,
            *client_goal.ROUTES,
            *client_new_goal.ROUTES,
            *client_nudges.ROUTES,
            *client_preferences.ROUTES,
            *client_access_log.ROUTES,
            *admin.ROUTES,
            *auditor.ROUTES,
            *caseload.ROUTES,
            *client.ROUTES,
            *new_goal.ROUTES,
            *shared_goals.ROUTES,
        ],
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf_config(settings))],
        dependencies={"viewer": Provide(provide_viewer)},
        request_class=HTMXRequest,
        opt={SIGNED_IN_BY_COOKIE: True},
        include_in_schema=False,
        exception_handlers={
            NotSignedIn: _not_signed_in,
            Problem: _refused,
            PermissionDeniedException: _expired_form,
            HTTPException: _http_error,
        },
    )


def static_router() -> Router:
    """htmx, the stylesheet and the pages' small scripts, from the service itself."""
    return create_static_files_router(
        path="/static", directories=[STATIC], include_in_schema=False, name="static"
    )
