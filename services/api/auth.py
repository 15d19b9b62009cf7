"""Who is calling. Authentication sits behind one small interface, so that a clinic's own
identity provider (OIDC JWTs) can take the place of opaque tokens."""

from typing import Protocol

from litestar import Request

from domain.access.policy import Caller
from infra.access.queries import caller_for_token
from infra.access.tokens import hash_token
from infra.db.connection import Connection
from services.api.errors import Problem


class Authenticator(Protocol):
    async def authenticate(self, conn: Connection, credentials: str) -> Caller | None:
        """The caller these bearer credentials prove, or None."""
        ...


class OpaqueTokenAuthenticator:
    def __init__(self, hash_key: str) -> None:
        self._hash_key = hash_key

    async def authenticate(self, conn: Connection, credentials: str) -> Caller | None:
        return await caller_for_token(conn, hash_token(credentials, self._hash_key))


def _unauthenticated(detail: str) -> Problem:
    return Problem(401, "not_authenticated", detail)


def bearer_credentials(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise _unauthenticated("Send a bearer token in the Authorization header.")
    return credentials.strip()
