"""One attempt: the signed bytes, sent to the checked address, and what came back."""

import asyncio
import time

import httpx
import msgspec

from infra.webhooks.addresses import Target

RESPONSE_KEPT_BYTES = 1024


class Answer(msgspec.Struct, frozen=True):
    status: int | None
    duration_ms: int
    error: str | None
    response: str
    retry_after: str | None


def new_client(connections: int) -> httpx.AsyncClient:
    """Redirects are not followed (a 3xx is a failed attempt), and no proxy from the
    environment is taken: the request must go to the address that was checked."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def post(
    client: httpx.AsyncClient,
    target: Target,
    headers: dict[str, str],
    body: bytes,
    timeout: float,  # noqa: ASYNC109 - the whole exchange, enforced here
) -> Answer:
    started = time.monotonic()
    extensions = {} if target.server_name is None else {"sni_hostname": target.server_name}
    kept = b""
    try:
        async with asyncio.timeout(timeout):
            request = client.build_request(
                "POST",
                target.url,
                content=body,
                headers={**headers, "host": target.host},
                extensions=extensions,
                timeout=timeout,
            )
            response = await client.send(request, stream=True)
            try:
                async for chunk in response.aiter_bytes():
                    kept += chunk
                    if len(kept) >= RESPONSE_KEPT_BYTES:
                        break
            finally:
                await response.aclose()
    except TimeoutError:
        return _failed(started, f"no answer within {timeout:g} s")
    except httpx.HTTPError as error:
        return _failed(started, f"{type(error).__name__}: {error}")
    return Answer(
        status=response.status_code,
        duration_ms=_since(started),
        error=None,
        response=kept[:RESPONSE_KEPT_BYTES].decode(errors="replace"),
        retry_after=response.headers.get("retry-after"),
    )


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _failed(started: float, error: str) -> Answer:
    return Answer(None, _since(started), error, "", None)
