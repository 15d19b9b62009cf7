"""What every write shares: If-Match, Idempotency-Key, and the reply they produce."""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import msgspec
from litestar import Request, Response
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIHeader, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from domain.access.policy import Caller
from infra import idempotency
from infra.db.connection import Connection, atomic
from infra.eventstore.envelope import Metadata
from services.api.errors import Problem

_MAX_KEY = 255

_REQUEST_HEADERS = {
    "If-Match": 'Write only if the goal is at this version, e.g. "3" (its ETag); else 409.',
    "Idempotency-Key": "1 to 255 characters of the client's choosing: the same request sent "
    "again with the same key answers the first reply, and writes nothing.",
}
_RESPONSE_HEADERS = {
    "ETag": 'The goal\'s version, e.g. "3": send it as If-Match to write on this version only.',
    "Idempotent-Replayed": "`true` when this is the first reply to the same request with the "
    "same Idempotency-Key, sent again: nothing was written this time.",
}


def documented(*, reads: tuple[str, ...] = (), answers: tuple[str, ...] = ()) -> type[Operation]:
    """An OpenAPI operation that names the headers a route reads (`If-Match`,
    `Idempotency-Key`) and those its successful replies carry (`ETag`, `Idempotent-Replayed`).

    The handlers read the headers themselves (`expected_version`, `idempotent`), so that a bad
    value gets the problem that names it; this only describes them.
    """
    parameters = [
        OpenAPIParameter(
            name=name,
            param_in=ParamType.HEADER,
            required=False,
            schema=Schema(type=OpenAPIType.STRING),
            description=_REQUEST_HEADERS[name],
        )
        for name in reads
    ]
    headers = {
        name: OpenAPIHeader(
            schema=Schema(type=OpenAPIType.STRING), description=_RESPONSE_HEADERS[name]
        )
        for name in answers
    }

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            self.parameters = [*(self.parameters or []), *parameters]
            self.responses = {
                status: _with_headers(status, answer, headers)
                if status.startswith("2") and isinstance(answer, OpenAPIResponse)
                else answer
                for status, answer in (self.responses or {}).items()
            }

    return DocumentedOperation


def _with_headers(
    status: str, answer: OpenAPIResponse, headers: dict[str, OpenAPIHeader]
) -> OpenAPIResponse:
    # A handler that answers 204 through a Response[None] is described with a JSON null body,
    # which a 204 never has.
    content = None if status == str(HTTP_204_NO_CONTENT) else answer.content
    return replace(answer, headers={**(answer.headers or {}), **headers}, content=content)


WRITE_ON_A_GOAL = documented(
    reads=("If-Match", "Idempotency-Key"), answers=("ETag", "Idempotent-Replayed")
)
"""Every write on a goal that exists."""
IDEMPOTENT_WRITE = documented(reads=("Idempotency-Key",), answers=("Idempotent-Replayed",))
"""A write that changes no goal."""


class Reply(msgspec.Struct, frozen=True):
    status_code: int
    body: bytes
    etag: str | None = None


def reply(status_code: int, payload: msgspec.Struct, version: int | None = None) -> Reply:
    """A write's reply; `version`, the goal's, becomes its ETag, and must be the `version` its
    payload names, if it names one (a replay reads it back from there)."""
    return reply_of(status_code, msgspec.json.encode(payload), version)


def expected_version(request: Request) -> int | None:
    """The version named by If-Match (`3` or `"3"`), or None to write on the latest."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise Problem(400, "invalid_if_match", 'If-Match takes the goal\'s version, e.g. "3".')
    return int(value)


def as_response(result: Reply, replayed: bool = False) -> Response[bytes]:
    headers = {"ETag": result.etag} if result.etag else {}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        result.body, status_code=result.status_code, media_type="application/json", headers=headers
    )


async def _fingerprint(request: Request) -> bytes:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.url.path.encode())
    digest.update(await request.body())
    return digest.digest()


class _Versioned(msgspec.Struct):
    version: int | None = None


def _kept_reply(status_code: int, body: bytes) -> Reply:
    """The first reply as kept: its ETag is the version its body names, as `reply` made it."""
    version = msgspec.json.decode(body, type=_Versioned).version if body else None
    return reply_of(status_code, body, version)


def reply_of(status_code: int, body: bytes, version: int | None) -> Reply:
    return Reply(status_code, body, None if version is None else f'"{version}"')


def _as_is(result: Reply) -> Reply:
    return result


async def idempotent(
    request: Request,
    conn: Connection,
    caller: Caller,
    produce: Callable[[], Awaitable[Reply]],
    kept_as: Callable[[Reply], Reply] = _as_is,
) -> Response[bytes]:
    """Runs `produce` once per Idempotency-Key; a retry gets the first reply back.

    `kept_as` shapes what is stored for retries, so that a secret shown once is not kept.
    """
    key = request.headers.get("idempotency-key")
    if key is None:
        return as_response(await produce())
    if not 0 < len(key) <= _MAX_KEY:
        raise Problem(400, "invalid_idempotency_key", "Idempotency-Key takes 1 to 255 characters.")
    fingerprint = await _fingerprint(request)
    # The key, the writes and the reply kept for retries commit together or not at all.
    async with atomic(conn):
        stored = await idempotency.claim(conn, caller.user_id, key, fingerprint)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise Problem(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used for a different request.",
                )
            return as_response(_kept_reply(stored.status_code, stored.body), replayed=True)
        result = await produce()
        kept = kept_as(result)
        await idempotency.remember(conn, caller.user_id, key, kept.status_code, kept.body)
    return as_response(result)


async def idempotent_without_body(
    request: Request,
    conn: Connection,
    caller: Caller,
    write: Callable[[], Awaitable[None]],
) -> Response[None]:
    """`idempotent` for a write that answers 204, No Content."""

    async def produce() -> Reply:
        await write()
        return Reply(HTTP_204_NO_CONTENT, b"")

    answered = await idempotent(request, conn, caller, produce)
    return Response(None, status_code=HTTP_204_NO_CONTENT, headers=answered.headers)


def metadata_for(caller: Caller, correlation_id: str, reason: str | None = None) -> Metadata:
    return Metadata(
        actor_id=caller.user_id,
        actor_role=caller.role,
        clinic_id=caller.clinic_id,
        correlation_id=correlation_id,
        reason=reason,
        token_id=caller.token_id,
    )
