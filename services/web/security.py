"""What every page's response carries, and how the browser's cookies are set.

The Content-Security-Policy allows nothing from elsewhere and no inline script: the pages' only
script is htmx, served from /static. Inline SVG is markup, not script, so charts drawn on the
server need nothing more. The JSON API, its schema page (which sets a policy of its own) and
the FHIR endpoints are left as they are.
"""

import hashlib
import hmac
import ipaddress
from urllib.parse import urlsplit

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from infra.config import Settings

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    # Sign-in links carry their secret in the query: no page passes its address on.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
NOT_PAGES = ("/v1/", "/schema", "/fhir/", "/health/", "/metrics")

CSRF_COOKIE = "goals_csrf"
CSRF_FIELD = "_csrf_token"  # the name Litestar's CSRF middleware reads from a form


def page_headers(app: ASGIApp) -> ASGIApp:
    """Adds PAGE_HEADERS to every answer outside the API: pages, assets, and their errors."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(NOT_PAGES):
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in PAGE_HEADERS.items():
                    headers[name] = value
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def cookies_secure(settings: Settings) -> bool:
    """Cookies are `Secure` unless the app is served over plain http on this machine alone
    (a developer's `make run`): a browser would not send them back over http otherwise."""
    address = urlsplit(settings.public_base_url)
    if address.scheme != "http":
        return True
    host = address.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def csrf_config(settings: Settings) -> CSRFConfig:
    """Double-submit CSRF tokens for the web routes only (services/web/app.py mounts the
    middleware on their router): the API's bearer-token clients never meet it."""
    secret = hmac.new(settings.token_hash_key.encode(), b"csrf", hashlib.sha256).hexdigest()
    return CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        cookie_secure=cookies_secure(settings),
        cookie_httponly=True,
        cookie_samesite="lax",
    )
