"""Callers over their rate limit, turned away ahead of everything else until their window ends.

Through a route, a refusal cost a process about 100 µs of CPU (docs/benchmarks.md, "Rate limits
under a flood"): routing, the caller's identity, the window read in Redis, the problem details
made, the request's log line. A client that ignores `Retry-After` sends its next request as soon
as the last is refused, thousands a second, and every other caller's request waited behind those
100 µs in the same event loop, or found the admission bound taken by them. So the first refusal
of a window goes through the route like any answer (counted in Redis, logged, access-recorded on
goal reads), and this layer, outside all the others, remembers until when that caller is refused.
Until then their requests are answered here with the same 429, for the price of a look-up and two
messages: before routing, before the admission bound, and without a log line each, which a flood
would otherwise write thousands of a second (the first refusal of each window is logged).

Cheap is not enough against a client that sends its next request as soon as the last is
answered: the cheaper the refusal, the more it sends, until the API's share of the machine goes
to refusals all the same (docs/benchmarks.md). So each of these refusals is held for
`RATE_LIMIT_HOLD_SECONDS` first, which costs no CPU: such a client then gets one answer per
connection per hold. A client that heeds `Retry-After` never sends a request that is held. The
hold never outlasts the window: a request still held when the window ends goes on to the route,
to be served or refused there. Held requests are outside the admission bound, so that they never
take the room of other callers' requests; what bounds them is the connections a client opens,
which a proxy in front limits.

Who a caller is, here, is only what they sent: their `Authorization` header (a request without
one is not counted). It is not verified, and need not be: a request is refused here only if the
same header was refused by a route, which did verify it (a token that proves no one is counted
there by its address), so a forged or guessed token is refused on its own account and can never
get anyone else's refused. The header
is kept by its `hash()` (SipHash under this process's own random key: no one outside can make
their header collide with another's), so that no secret is kept longer than its request.
"""

import asyncio
import time
from dataclasses import dataclass

import msgspec
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from domain.goals.fhir import FHIR_JSON
from services.api.errors import PROBLEM_JSON, ProblemDetails, rate_limited_body
from services.api.fhir.outcomes import outcome_of
from services.api.fhir.routes import FHIR_BASE
from services.api.observability import correlation_id_from

# Callers refused at once; past it, those whose windows have ended are forgotten first, then the
# longest known: one forgotten is refused by a route again, once.
_KEPT = 10_000
_RESET = b"ratelimit-reset"


@dataclass(frozen=True, slots=True)
class _Refused:
    until: int
    """When the window that refused the caller ends, in seconds since the epoch."""
    headers: list[tuple[bytes, bytes]]
    """The route's `RateLimit-*` headers but the reset, which is said anew each time."""


def _caller(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return hash(value)
    return None  # not counted (services/api/limits.py), so never refused


def _refusal(headers: list[tuple[bytes, bytes]]) -> _Refused | None:
    retry_after = next((value for name, value in headers if name.lower() == b"retry-after"), None)
    if retry_after is None or not retry_after.isdigit():
        return None
    kept = [
        (name.lower(), value)
        for name, value in headers
        if name.lower().startswith(b"ratelimit-") and name.lower() != _RESET
    ]
    return _Refused(int(time.time()) + int(retry_after), kept)


class _RefusedCallers:
    def __init__(self) -> None:
        self._by_caller: dict[int, _Refused] = {}

    def refusal(self, caller: int) -> _Refused | None:
        """The caller's refusal, while its window runs."""
        refused = self._by_caller.get(caller)
        if refused is None:
            return None
        if refused.until > time.time():
            return refused
        del self._by_caller[caller]
        return None

    def note(self, caller: int, refused: _Refused) -> None:
        if len(self._by_caller) >= _KEPT:
            now = int(time.time())
            self._by_caller = {c: r for c, r in self._by_caller.items() if r.until > now}
        if len(self._by_caller) >= _KEPT:
            del self._by_caller[next(iter(self._by_caller))]
        self._by_caller[caller] = refused


def over_limit_refusals(app: ASGIApp, unlimited: tuple[str, ...], hold_seconds: float) -> ASGIApp:
    """`app`, with the callers its routes refused for their rate limit refused ahead of it until
    their windows end, each refusal after `hold_seconds` (never past the window's end: a request
    still held then goes on to `app`); never on the paths that begin with one of `unlimited`."""
    refused_callers = _RefusedCallers()
    problem = rate_limited_body()
    outcome = msgspec.json.encode(outcome_of(msgspec.json.decode(problem, type=ProblemDetails)))
    bodies = {
        True: ([(b"content-type", FHIR_JSON.encode())], outcome),
        False: ([(b"content-type", PROBLEM_JSON.encode())], problem),
    }
    fhir_paths = f"{FHIR_BASE}/"

    async def refuse(scope: Scope, send: Send, refused: _Refused) -> None:
        content_type, body = bodies[scope["path"].startswith(fhir_paths)]
        wait = str(max(1, refused.until - int(time.time()))).encode()
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                *content_type,
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", wait),
                *refused.headers,
                (_RESET, wait),
                (b"x-request-id", correlation_id_from(scope).encode()),
            ],
        }
        await send(start)
        end: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": body,
            "more_body": False,
        }
        await send(end)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(unlimited):
            await app(scope, receive, send)
            return
        caller = _caller(scope)
        if caller is None:
            await app(scope, receive, send)
            return
        refused = refused_callers.refusal(caller)
        if refused is not None and hold_seconds > 0:
            await asyncio.sleep(min(hold_seconds, refused.until - time.time()))
            refused = refused_callers.refusal(caller)
        if refused is not None:
            await refuse(scope, send, refused)
            return

        async def send_noting_refusal(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 429:
                refused = _refusal(list(message.get("headers", [])))
                if refused is not None:
                    refused_callers.note(caller, refused)
            await send(message)

        await app(scope, receive, send_noting_refusal)

    return middleware
