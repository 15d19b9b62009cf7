"""Who is calling. Authentication sits behind one small interface, so that a clinic's own
identity provider (OIDC JWTs) can take the place of opaque tokens."""

from typing import Protocol

from litestar import Request

from domain.access.policy import Caller
from infra.access.queries import caller_for_token
from infra.access.tokens import hash_token
from infra.db.connection import Connection
from services.api.audit.subject import note_caller
from services.api.errors import Problem


class Authenticator(Protocol):
    async def authenticate(self, conn: Connection, credentials: str) -> Caller | None:
        """The caller these bearer credentials prove, or None."""
        ...

    def token_hash(self, credentials: str) -> bytes:
        """What the database knows these credentials by.

        Goal requests look up the token together with the goal, in one round trip
        (infra/goals/request_read.py). An identity provider whose tokens name the caller
        themselves would read the goal with that caller instead.
        """
        ...


class OpaqueTokenAuthenticator:
    def __init__(self, hash_key: str) -> None:
        self._hash_key = hash_key

    async def authenticate(self, conn: Connection, credentials: str) -> Caller | None:
        return await caller_for_token(conn, self.token_hash(credentials))

    def token_hash(self, credentials: str) -> bytes:
        return hash_token(credentials, self._hash_key)


def _unauthenticated(detail: str, challenge: str) -> Problem:
    """A 401 with the challenge RFC 6750 asks for: `Bearer` alone when no token came, and
    `error="invalid_token"` when one came that proves no one."""
    return Problem(401, "not_authenticated", detail, headers={"WWW-Authenticate": challenge})


def bearer_credentials(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise _unauthenticated(
            "Send a bearer token in the Authorization header.", 'Bearer realm="therapy-goals"'
        )
    return credentials.strip()


SESSION_COOKIE = "goals_session"
"""The web app's session cookie: an access token's secret (infra/access/web_sessions.py)."""

SIGNED_IN_BY_COOKIE = "signed_in_by_cookie"
"""Route option: the caller proves themself with the session cookie, not a bearer token. Only
the web app's routes take it, and each of their forms carries a CSRF token: the JSON API never
reads a cookie, so a browser cannot be made to call it with someone's session."""


def request_credentials(request: Request) -> str:
    """The credentials the route takes: the session cookie on web routes, else a bearer token."""
    if request.route_handler.opt.get(SIGNED_IN_BY_COOKIE):
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if not cookie:
            raise _unauthenticated("Sign in first.", 'Cookie realm="therapy-goals"')
        return cookie
    return bearer_credentials(request)


def authenticated(request: Request, caller: Caller | None) -> Caller:
    """The caller, named in the request's log line; 401 when the credentials proved no one."""
    if caller is None:
        raise _unauthenticated(
            "This token is unknown, expired or revoked.",
            'Bearer realm="therapy-goals", error="invalid_token", '
            'error_description="The access token is unknown, expired or revoked"',
        )
    request.state.actor_id = str(caller.user_id)
    note_caller(request, caller)
    return caller
