"""One-click unsubscribe from nudge e-mails (RFC 8058): the link an e-mail's `List-Unsubscribe`
header names. A mail client POSTs to it with no credentials; a person who opens it in a browser
gets a page with one button, since link checkers and previews open links (GET) by themselves."""

import msgspec
from litestar import Response, get, post
from litestar.params import FromPath

from infra.eventstore.envelope import Metadata
from infra.nudges import preferences as kept_preferences
from infra.nudges.unsubscribe import unsubscriber
from services.api.deps import AppSettings, CorrelationId, Db
from services.api.errors import Problem, problem_responses
from services.api.nudges.schemas import Unsubscribed

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stop e-mails</title></head>
<body><form method="post"><p>Stop e-mails about updates from your care team? You will still
see them in the app.</p><button type="submit">Stop e-mails</button></form></body></html>
"""


def _unknown_link() -> Problem:
    return Problem(404, "unknown_unsubscribe_link", "This unsubscribe link is not one of ours.")


@get(
    "/v1/unsubscribe/{token:str}",
    summary="The page behind an e-mail's unsubscribe link: one button that stops e-mail",
    security=[],
    media_type="text/html",
    include_in_schema=True,
    responses=problem_responses(404),
)
async def unsubscribe_page(token: FromPath[str], settings: AppSettings) -> Response[str]:
    if unsubscriber(token, settings.token_hash_key) is None:
        raise _unknown_link()
    return Response(_PAGE, media_type="text/html")


@post(
    "/v1/unsubscribe/{token:str}",
    summary="Stop nudge e-mails, in one click, from the link an e-mail carries (RFC 8058)",
    security=[],
    status_code=200,
    responses=problem_responses(404),
)
async def unsubscribe(
    token: FromPath[str], conn: Db, settings: AppSettings, correlation_id: CorrelationId
) -> Unsubscribed:
    user_id = unsubscriber(token, settings.token_hash_key)
    if user_id is None:
        raise _unknown_link()
    user = await conn.fetchrow("SELECT clinic_id, role FROM users WHERE id = $1", user_id)
    current = await kept_preferences.read(conn, user_id)
    if user is None or current is None:
        raise _unknown_link()
    if current.email:
        metadata = Metadata(
            actor_id=user_id,
            actor_role=user["role"],
            clinic_id=user["clinic_id"],
            correlation_id=correlation_id,
            reason="unsubscribed with the link in an e-mail",
        )
        stopped = msgspec.structs.replace(current, email=False)
        await kept_preferences.keep(conn, user_id, stopped, metadata)
    return Unsubscribed(email=False)


ROUTES = [unsubscribe_page, unsubscribe]
