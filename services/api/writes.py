"""What every write shares: If-Match, Idempotency-Key, and the reply they produce."""

import hashlib
from collections.abc import Awaitable, Callable

import msgspec
from litestar import Request, Response

from domain.access.policy import Caller
from infra import idempotency
from infra.db.connection import Connection, atomic
from infra.eventstore.envelope import Metadata
from services.api.errors import Problem

_MAX_KEY = 255


class Reply(msgspec.Struct, frozen=True):
    status_code: int
    body: bytes
    etag: str | None = None


def reply(status_code: int, payload: msgspec.Struct, version: int | None = None) -> Reply:
    etag = None if version is None else f'"{version}"'
    return Reply(status_code, msgspec.json.encode(payload), etag)


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
            return as_response(Reply(stored.status_code, stored.body), replayed=True)
        result = await produce()
        kept = kept_as(result)
        await idempotency.remember(conn, caller.user_id, key, kept.status_code, kept.body)
    return as_response(result)


def metadata_for(caller: Caller, correlation_id: str, reason: str | None = None) -> Metadata:
    return Metadata(
        actor_id=caller.user_id,
        actor_role=caller.role,
        clinic_id=caller.clinic_id,
        correlation_id=correlation_id,
        reason=reason,
        token_id=caller.token_id,
    )
