"""The one place the API is wired: routes, providers, errors, OpenAPI, lifespan."""

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import structlog
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from infra.audit.access_log import append_access_records
from infra.config import DEVELOPMENT_TOKEN_KEY, Settings, get_settings
from infra.db.batches import Batcher
from infra.db.pool import close_pool, open_pool
from infra.eventstore.signal import AppendSignal
from infra.goals.store import GoalStore
from infra.goals.writer import GoalWriter
from infra.logging import configure_logging
from infra.webhooks.sender import guard_for
from services.api import health, metrics
from services.api.admission import admission
from services.api.audit import export_route, verification_route
from services.api.audit import routes as audit_routes
from services.api.audit.recording import access_logging
from services.api.auth import OpaqueTokenAuthenticator
from services.api.bodies import StrictRequest
from services.api.deps import (
    ONE_STATEMENT_WRITES,
    provide_caller,
    provide_connection,
    provide_correlation_id,
    provide_settings,
)
from services.api.docs_page import SCHEMA_PATH, SwaggerPage, schema_router
from services.api.fhir import routes as fhir_routes
from services.api.fhir.outcomes import FHIR_EXCEPTION_HANDLERS, by_path
from services.api.goals import actions as goal_actions
from services.api.goals import lists as goal_lists
from services.api.goals import routes as goal_routes
from services.api.limits import STORE_NAME, UNLIMITED_PREFIXES, rate_limits
from services.api.nudges import routes as nudge_routes
from services.api.nudges import unsubscribe
from services.api.observability import request_logging
from services.api.outage import DatabaseWatch
from services.api.over_limit import over_limit_refusals
from services.api.progress import routes as progress_routes
from services.api.record import routes as record_routes
from services.api.streams import STREAMING_DEPENDENCIES, StreamSlots, holding_a_connection
from services.api.users import routes as user_routes
from services.api.webhooks import routes as webhook_routes
from services.web.app import static_router, template_config, web_router
from services.web.security import page_headers

log = structlog.get_logger(__name__)

# Two batches of reads, two of appends and one of check-ins in flight at once
# (infra/goals/store.py), and two of access records (services/api/audit/recording.py).
BATCH_CONNECTIONS = 7
GC_YOUNG_THRESHOLD = 10_000


def tune_garbage_collection() -> None:
    """Fewer, still short, pauses of the cycle collector in a served worker.

    What is loaded by start-up is set aside for good. The youngest generation is collected after
    10,000 allocations, not 700 (a request makes a few thousand): each pass stays at a
    millisecond or so, where a much larger threshold made single passes of tens of
    milliseconds. The goals a process keeps folded are never walked at all: domain records and
    envelopes are msgspec structs with `gc=False` (frozen, holding only immutable values, they
    cannot be part of a reference cycle).
    """
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def create_served_app() -> Litestar:
    """The app as `goals api` serves it, in each worker process of its own."""
    return create_app(on_startup=[tune_garbage_collection])


def create_app(
    settings: Settings | None = None, on_startup: list[Callable[[], None]] | None = None
) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if settings.token_hash_key == DEVELOPMENT_TOKEN_KEY:
            log.warning("token_hash_key_is_the_development_default")
        # Both pools open even while the database is down (infra/db/pool.py): the process
        # starts, answers 503 meanwhile, and connects once the database is back.
        # The API keeps no session state on its connections: no SET, no locks, no LISTEN.
        app.state.pool = await open_pool(settings, stateless=True)
        batch_pool = await open_pool(
            settings,
            min_size=1,
            max_size=BATCH_CONNECTIONS,
            stateless=True,
            # A batch statement runs with arrays of any length: planning it for each one's
            # length costs more than it saves.
            server_settings={"plan_cache_mode": "force_generic_plan"},
        )
        watch = DatabaseWatch(app.state.pool, settings.database_acquire_timeout_seconds)
        app.state.database_watch = watch
        signal = AppendSignal(app.state.pool)
        app.state.append_signal = signal
        writer = GoalWriter(
            GoalStore(app.state.pool, batch_pool, signal, settings.database_acquire_timeout_seconds)
        )
        app.state.goal_writer = writer
        app.state.stream_slots = StreamSlots(
            settings.api_max_concurrent_streams, settings.database_acquire_timeout_seconds
        )
        app.state.access_recorder = Batcher(
            batch_pool,
            append_access_records,
            acquire_timeout=settings.database_acquire_timeout_seconds,
        )
        sending = asyncio.create_task(signal.run())
        try:
            yield
        finally:
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
            await writer.snapshots.settled()
            await watch.close()
            closing = settings.database_command_timeout_seconds
            await close_pool(batch_pool, closing)
            await close_pool(app.state.pool, closing)

    limits = rate_limits(settings)
    app = Litestar(
        route_handlers=[
            *health.ROUTES,
            metrics.metrics,
            *user_routes.ROUTES,
            # Every goal write is one append (see infra/goals/writer.py).
            Router("/", route_handlers=goal_routes.ROUTES, opt={ONE_STATEMENT_WRITES: True}),
            Router("/", route_handlers=goal_actions.ROUTES, opt={ONE_STATEMENT_WRITES: True}),
            *goal_lists.ROUTES,
            *progress_routes.ROUTES,
            # Each holds one connection until its answer has streamed (services/api/streams.py).
            Router(
                "/",
                route_handlers=[*export_route.ROUTES, *record_routes.ROUTES],
                middleware=[holding_a_connection],
                dependencies=STREAMING_DEPENDENCIES,
            ),
            *nudge_routes.ROUTES,
            *unsubscribe.ROUTES,
            *audit_routes.ROUTES,
            *verification_route.ROUTES,
            *webhook_routes.ROUTES,
            # Their refusals are OperationOutcomes, not problem details.
            Router(
                fhir_routes.FHIR_BASE,
                route_handlers=fhir_routes.ROUTES,
                exception_handlers=FHIR_EXCEPTION_HANDLERS,  # type: ignore[arg-type]
            ),
            # The web app's pages and assets (docs/web.md).
            web_router(settings),
            static_router(),
        ],
        template_config=template_config(),
        dependencies={
            "conn": Provide(provide_connection),
            "caller": Provide(provide_caller),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "correlation_id": Provide(provide_correlation_id, sync_to_thread=False),
        },
        lifespan=[lifespan],
        middleware=[config.middleware for config in limits[0]] if limits else [],
        stores={STORE_NAME: limits[1]} if limits else None,
        on_startup=on_startup,
        state=State(
            {
                "settings": settings,
                "authenticator": OpaqueTokenAuthenticator(settings.token_hash_key),
                "webhook_guard": guard_for(settings),
            }
        ),
        exception_handlers=by_path(fhir_routes.FHIR_BASE),  # type: ignore[arg-type]
        request_max_body_size=settings.max_body_bytes,
        request_class=StrictRequest,
        openapi_config=OpenAPIConfig(
            title="therapy-goals",
            version="1",
            description="SMART therapy goals for clinics, on an event log.",
            path=SCHEMA_PATH,
            openapi_router=schema_router(),
            render_plugins=[SwaggerPage(), JsonRenderPlugin()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http", scheme="bearer", description="opaque token"
                    )
                }
            ),
            security=[{"bearer": []}],
        ),
        debug=False,
        logging_config=None,
    )
    # Around the whole app, not as route middleware, so that requests no route answers (404,
    # 405), and those refused for want of room (503), are logged and get their X-Request-ID too.
    app.asgi_handler = request_logging(
        admission(
            access_logging(page_headers(app.asgi_handler)), settings.api_max_concurrent_requests
        )
    )
    if limits:
        # Ahead of all: a caller refused for their rate limit costs nothing more until their
        # window ends (services/api/over_limit.py).
        app.asgi_handler = over_limit_refusals(
            app.asgi_handler, UNLIMITED_PREFIXES, settings.rate_limit_hold_seconds
        )
    return app
