"""A bound on the requests one API process serves at once.

Past it, a request answers 503 with `Retry-After` at once. Without one, a slow or frozen
database lets requests pile up in the process (each holding its memory and its client's
connection) until clients time out, and the process answers nothing well; with one, the excess
is told to come back, and what is admitted still finishes within its time limits. Liveness,
readiness and metrics are always admitted: they must answer most when the process is busiest.
"""

from collections.abc import Awaitable, Callable

import msgspec
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from domain.goals.fhir import FHIR_JSON
from services.api.errors import PROBLEM_JSON, RETRY_AFTER_SECONDS, ProblemDetails, unavailable_body
from services.api.fhir.outcomes import outcome_of
from services.api.fhir.routes import FHIR_BASE

_ALWAYS_ADMITTED = ("/health/", "/metrics")


def _refusal(media_type: str, body: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    return body, [
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
    ]


Refuse = Callable[[Scope, Send], Awaitable[None]]


def unavailable(code: str, detail: str) -> Refuse:
    """Sends a 503 with `Retry-After`: problem details, or an OperationOutcome on FHIR routes
    (FHIR clients are refused in FHIR's words, as everywhere on their routes)."""
    problem = unavailable_body(code, detail)
    outcome = outcome_of(msgspec.json.decode(problem, type=ProblemDetails))
    refusals = {
        True: _refusal(FHIR_JSON, msgspec.json.encode(outcome)),
        False: _refusal(PROBLEM_JSON, problem),
    }

    async def refuse(scope: Scope, send: Send) -> None:
        refusal, headers = refusals[scope["path"].startswith(f"{FHIR_BASE}/")]
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 503,
            "headers": headers,
        }
        await send(start)
        body: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": refusal,
            "more_body": False,
        }
        await send(body)

    return refuse


def admission(app: ASGIApp, limit: int) -> ASGIApp:
    in_flight = 0
    refuse = unavailable(
        "overloaded", "This server is serving as many requests as it can; send it again shortly."
    )

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal in_flight
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(_ALWAYS_ADMITTED):
            await app(scope, receive, send)
            return
        if in_flight >= limit:
            await refuse(scope, send)
            return
        in_flight += 1
        try:
            await app(scope, receive, send)
        finally:
            in_flight -= 1

    return middleware
