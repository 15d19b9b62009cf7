"""A bound on the requests one API process serves at once.

Past it, a request answers 503 with `Retry-After` at once. Without one, a slow or frozen
database lets requests pile up in the process (each holding its memory and its client's
connection) until clients time out, and the process answers nothing well; with one, the excess
is told to come back, and what is admitted still finishes within its time limits. Liveness,
readiness and metrics are always admitted: they must answer most when the process is busiest.
"""

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from services.api.errors import PROBLEM_JSON, RETRY_AFTER_SECONDS, unavailable_body

_ALWAYS_ADMITTED = ("/health/", "/metrics")


def admission(app: ASGIApp, limit: int) -> ASGIApp:
    in_flight = 0
    refusal = unavailable_body(
        "overloaded", "This server is serving as many requests as it can; send it again shortly."
    )
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(refusal)).encode()),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
    ]

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal in_flight
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(_ALWAYS_ADMITTED):
            await app(scope, receive, send)
            return
        if in_flight >= limit:
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
            return
        in_flight += 1
        try:
            await app(scope, receive, send)
        finally:
            in_flight -= 1

    return middleware
