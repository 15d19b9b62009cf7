"""Who is calling. Authentication sits behind one small interface, so that a clinic's own
identity provider (OIDC JWTs) can take the place of opaque tokens."""

from typing import Protocol
from uuid import UUID

from litestar import Request

from domain.access.policy import Caller
from infra.access.queries import caller_for_token
from infra.access.tokens import hash_token
from infra.db.connection import Connection
from infra.goals.request_read import RequestRead, read_for_request
from services.api.errors import Problem


class Authenticator(Protocol):
    async def authenticate(self, conn: Connection, credentials: str) -> Caller | None:
        """The caller these bearer credentials prove, or None."""
        ...

    async def authenticate_on_goal(
        self, conn: Connection, credentials: str, goal_id: UUID, after_version: int
    ) -> RequestRead:
        """The caller, and what they would need of the goal (see infra/goals/request_read.py).

        One call, so that checking a token stored in the database shares the goal's round trip.
        """
        ...


class OpaqueTokenAuthenticator:
    def __init__(self, hash_key: str) -> None:
        self._hash_key = hash_key

    async def authenticate(self, conn: Connection, credentials: str) -> Caller | None:
        return await caller_for_token(conn, hash_token(credentials, self._hash_key))

    async def authenticate_on_goal(
        self, conn: Connection, credentials: str, goal_id: UUID, after_version: int
    ) -> RequestRead:
        secret_hash = hash_token(credentials, self._hash_key)
        return await read_for_request(conn, secret_hash, goal_id, after_version)


def _unauthenticated(detail: str) -> Problem:
    return Problem(401, "not_authenticated", detail)


def bearer_credentials(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise _unauthenticated("Send a bearer token in the Authorization header.")
    return credentials.strip()


def authenticated(request: Request, caller: Caller | None) -> Caller:
    """The caller, named in the request's log line; 401 when the credentials proved no one."""
    if caller is None:
        raise _unauthenticated("This token is unknown, expired or revoked.")
    request.state.actor_id = str(caller.user_id)
    return caller
