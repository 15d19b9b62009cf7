"""The one place the API is wired: routes, providers, errors, OpenAPI, lifespan."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from infra.config import DEVELOPMENT_TOKEN_KEY, Settings, get_settings
from infra.db.pool import open_pool
from infra.eventstore.signal import AppendSignal
from infra.logging import configure_logging
from services.api import health, metrics
from services.api.auth import OpaqueTokenAuthenticator
from services.api.deps import (
    ONE_STATEMENT_WRITES,
    provide_caller,
    provide_connection,
    provide_correlation_id,
    provide_settings,
)
from services.api.errors import EXCEPTION_HANDLERS
from services.api.goals import actions as goal_actions
from services.api.goals import lists as goal_lists
from services.api.goals import routes as goal_routes
from services.api.observability import request_logging
from services.api.progress import routes as progress_routes
from services.api.users import routes as user_routes

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if settings.token_hash_key == DEVELOPMENT_TOKEN_KEY:
            log.warning("token_hash_key_is_the_development_default")
        # The API keeps no session state on its connections: no SET, no locks, no LISTEN.
        app.state.pool = await open_pool(settings, stateless=True)
        signal = AppendSignal(app.state.pool)
        app.state.append_signal = signal
        sending = asyncio.create_task(signal.run())
        try:
            yield
        finally:
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
            await app.state.pool.close()

    app = Litestar(
        route_handlers=[
            *health.ROUTES,
            metrics.metrics,
            *user_routes.ROUTES,
            # Every goal write is one append (see infra/goals/handler.py).
            Router("/", route_handlers=goal_routes.ROUTES, opt={ONE_STATEMENT_WRITES: True}),
            Router("/", route_handlers=goal_actions.ROUTES, opt={ONE_STATEMENT_WRITES: True}),
            *goal_lists.ROUTES,
            *progress_routes.ROUTES,
        ],
        dependencies={
            "conn": Provide(provide_connection),
            "caller": Provide(provide_caller),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "correlation_id": Provide(provide_correlation_id, sync_to_thread=False),
        },
        lifespan=[lifespan],
        state=State(
            {
                "settings": settings,
                "authenticator": OpaqueTokenAuthenticator(settings.token_hash_key),
            }
        ),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="therapy-goals",
            version="1",
            description="SMART therapy goals for clinics, on an event log.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), JsonRenderPlugin()],
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
    # 405) are logged and get their X-Request-ID too.
    app.asgi_handler = request_logging(app.asgi_handler)
    return app
