"""Rate limits per caller, counted in Redis so that every API process shares them.

Litestar's `RateLimitMiddleware` does the counting (a fixed window per identity, in the store
named `rate_limit`); this module says who a request is, changes how the middleware waits and
refuses (`CallerRateLimitMiddleware`), and keeps the API answering when Redis does not. The
window is read, then written: two processes counting one user at the same instant can both count
one request, so a user hammering several processes gets somewhat more than the limit
(docs/benchmarks.md measured about 1.6x with two).

Who: the user the bearer token belongs to, so that the tokens one person mints share one limit.
The middleware asks before the route runs, so the holder of a token not yet seen by this process
is looked up once (a token never changes hands) and remembered. A request without a bearer token
is not counted (the web app's pages are signed in by a cookie, and a clinic's staff may share
one address); one whose token proves no one is counted by the address it came from, so that
guessing tokens is limited too.

Two windows count each user: `RATE_LIMIT_REQUESTS` per `RATE_LIMIT_WINDOW`, and
`RATE_LIMIT_BURST` in each second of the clock, so that the opening of a long window does not let
its whole count through at once. Litestar counts fixed windows only; a second, one-second window
bounds a burst as a token bucket of that size would, to within the turn of a second.

Once a route has refused a caller, services/api/over_limit.py refuses their further requests
ahead of the whole app until the window ends: this module decides, that one repeats cheaply.

When Redis cannot be reached, requests are not limited (fail open): the limits protect the
service's fairness, not its data, and a Redis outage must not take the API down with it. Each
process says so once per outage, and tries Redis again at most every `_RETRY_SECONDS`, so that
an unreachable Redis costs a request no wait.
"""

import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import anyio
import asyncpg
import structlog
from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import (
    CacheObject,
    RateLimitConfig,
    RateLimitMiddleware,
    get_remote_address,
)
from litestar.stores.redis import RedisStore
from litestar.types import ASGIApp, Receive, Scope, Send
from redis.asyncio import Redis
from redis.exceptions import RedisError

from infra.access.queries import caller_for_token
from infra.access.tokens import hash_token
from infra.config import Settings
from services.api.errors import RATE_LIMITED_DETAIL

log = structlog.get_logger(__name__)

STORE_NAME = "rate_limit"
UNLIMITED_PREFIXES = ("/health", "/metrics", "/schema")
_IDENTITY = "rate_limit_identity"
_RETRY_SECONDS = 1.0
_REDIS_TIMEOUT_SECONDS = 0.5
_FULL_WINDOWS_KEPT = 10_000


class TokenHolders:
    """The user each token hash belongs to, as far as this process has looked."""

    def __init__(self, hash_key: str, capacity: int = 10_000) -> None:
        self._hash_key = hash_key
        self._capacity = capacity
        self._holders: OrderedDict[bytes, str] = OrderedDict()

    async def identity(self, request: Request[Any, Any, Any]) -> str | None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return None
        token_hash = hash_token(credentials.strip(), self._hash_key)
        holder = self._holders.get(token_hash) or await self._look_up(request, token_hash)
        return f"user:{holder}" if holder else f"address:{get_remote_address(request)}"

    async def _look_up(self, request: Request[Any, Any, Any], token_hash: bytes) -> str | None:
        pool: asyncpg.Pool = request.app.state.pool
        settings: Settings = request.app.state.settings
        try:
            async with pool.acquire(timeout=settings.database_acquire_timeout_seconds) as conn:
                caller = await caller_for_token(conn, token_hash)
        except (OSError, TimeoutError, asyncpg.PostgresError):
            return None  # the route answers 503 for the database itself
        if caller is None:
            return None
        self._holders[token_hash] = str(caller.user_id)
        if len(self._holders) > self._capacity:
            self._holders.popitem(last=False)
        return str(caller.user_id)


class FailOpenRedisStore(RedisStore):
    """A Redis store that answers "nothing counted yet" while Redis cannot be reached."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        super().__init__(redis, namespace=namespace, handle_client_shutdown=True)
        self._down_since: float | None = None
        self._next_try = 0.0

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        if not self._worth_trying():
            return None
        try:
            value = await super().get(key, renew_for)
        except (RedisError, OSError) as error:
            self._failed(error)
            return None
        self._answered()
        return value

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        if not self._worth_trying():
            return
        try:
            await super().set(key, value, expires_in)
        except (RedisError, OSError) as error:
            self._failed(error)
            return
        self._answered()

    def _worth_trying(self) -> bool:
        return self._down_since is None or time.monotonic() >= self._next_try

    def _failed(self, error: Exception) -> None:
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
            log.warning("rate_limits_off_redis_unreachable", error=repr(error))
        self._next_try = now + _RETRY_SECONDS

    def _answered(self) -> None:
        if self._down_since is not None:
            log.info("rate_limits_back", off_seconds=round(time.monotonic() - self._down_since, 1))
            self._down_since = None


class _LocksByKey:
    """One lock per key, kept only while someone holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[anyio.Lock, int]] = {}

    @asynccontextmanager
    async def held(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (anyio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class CallerRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's middleware, its `__call__` changed in three ways.

    Each identity's read-then-write of its window holds a lock of that identity's own. Litestar
    holds one lock per process for every caller's, so that a flood from one user queued every
    other user's requests behind its Redis round trips (docs/benchmarks.md, "Rate limits").
    A window seen full refuses at once until it ends. And the 429 carries `Retry-After`
    (RFC 9110), which Litestar leaves out.
    """

    def __init__(self, app: ASGIApp, config: RateLimitConfig) -> None:
        super().__init__(app, config)
        self._locks = _LocksByKey()
        # Windows this process saw full: a window only fills until it ends, so until then a
        # flood's requests are refused here, without a round trip to Redis each.
        self._full: dict[str, CacheObject] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        request: Request[Any, Any, Any] = app.request_class(scope)
        store = self.config.get_store_from_app(app)
        if await self.should_check_request(request=request):
            key = self.cache_key_from_request(request)
            self._refuse_if_full(self._full.get(key))
            async with self._locks.held(key):
                window = await self.retrieve_cached_history(key, store)
                if len(window.history) >= self.max_requests:
                    self._remember_full(key, window)
                    self._refuse_if_full(window)
                await self.set_cached_history(key=key, cache_object=window, store=store)
            if self.config.set_rate_limit_headers:
                send = self.create_send_wrapper(send=send, cache_object=window)
        await self.app(scope, receive, send)

    def _refuse_if_full(self, window: CacheObject | None) -> None:
        if window is None or window.reset <= int(time.time()):
            return
        headers = self.create_response_headers(cache_object=window)
        headers["Retry-After"] = str(max(1, window.reset - int(time.time())))
        raise TooManyRequestsException(detail=RATE_LIMITED_DETAIL, headers=headers)

    def _remember_full(self, key: str, window: CacheObject) -> None:
        now = int(time.time())
        if len(self._full) >= _FULL_WINDOWS_KEPT:
            self._full = {k: full for k, full in self._full.items() if full.reset > now}
        self._full[key] = window


class BurstRateLimitMiddleware(CallerRateLimitMiddleware):
    """The same, counting in each second of the clock, in windows of its own name."""


def rate_limits(settings: Settings) -> tuple[list[RateLimitConfig], FailOpenRedisStore] | None:
    """The middlewares' configurations, outermost first: the burst's (when it bounds anything
    the window does not), then the window's; and their store. None when limits are off."""
    if settings.rate_limit_requests <= 0:
        return None
    holders = TokenHolders(settings.token_hash_key)

    async def counted(request: Request[Any, Any, Any]) -> bool:
        if _IDENTITY not in request.state:
            request.state[_IDENTITY] = await holders.identity(request)
        return request.state[_IDENTITY] is not None

    def identifier(request: Request[Any, Any, Any]) -> str:
        return str(request.state[_IDENTITY])

    redis = Redis.from_url(
        settings.redis_url,
        socket_timeout=_REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
    )
    window = RateLimitConfig(
        rate_limit=(settings.rate_limit_window, settings.rate_limit_requests),
        exclude=[f"^{prefix}" for prefix in UNLIMITED_PREFIXES],
        identifier_for_request=identifier,
        check_throttle_handler=counted,
        middleware_class=CallerRateLimitMiddleware,
        store=STORE_NAME,
    )
    configs = [window]
    burst = settings.rate_limit_burst
    if settings.rate_limit_window != "second" and 0 < burst < settings.rate_limit_requests:
        # First, so that a request it refuses is not counted in the window. Its headers are
        # left to the window's, the limit a client plans by; its refusal says which refused.
        configs.insert(
            0,
            replace(
                window,
                rate_limit=("second", burst),
                middleware_class=BurstRateLimitMiddleware,
                set_rate_limit_headers=False,
            ),
        )
    return configs, FailOpenRedisStore(redis, f"{settings.broker_namespace}:rate_limit")
