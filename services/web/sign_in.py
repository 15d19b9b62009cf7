"""Signing in without a password, and signing out.

A person asks for a link by e-mail address, or opens their invitation; either way the page asks
them to press a button before anything is used, so that a mail scanner following the link spends
nothing. The answer to "send me a link" is the same whether or not the address belongs to
anyone, so the page tells no one who has an account.
"""

from datetime import timedelta

import structlog
from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from domain.access.people import InvalidDetail, normal_email
from infra.access import identity, invitations
from infra.access.sign_in_mail import mail_sign_in_link
from infra.access.web_sessions import (
    SESSION_LIFETIME,
    end_sessions_of,
    new_links_for,
    record_session,
    session_from_link,
)
from services.api.auth import SESSION_COOKIE
from services.api.deps import AppSettings, CorrelationId, Db
from services.api.writes import metadata_for
from services.web.security import cookies_secure
from services.web.viewer import SignedIn

log = structlog.get_logger(__name__)

EXPIRED_LINK = "This link has been used already or has expired. You can ask for a new one below."
NOT_AN_EMAIL = "Please enter an e-mail address, like name@example.org."
EXPIRED_INVITATION = (
    "This invitation code has been used already, withdrawn or has expired. "
    "Ask your clinic for a new invitation."
)


def _session_cookie(secret: str, settings: AppSettings, lifetime: timedelta) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=secret,
        path="/",
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        secure=cookies_secure(settings),
        samesite="lax",
    )


def _signed_in(secret: str, settings: AppSettings) -> Redirect:
    return Redirect(
        "/", status_code=303, cookies=[_session_cookie(secret, settings, SESSION_LIFETIME)]
    )


def _signed_out(settings: AppSettings) -> Redirect:
    return Redirect(
        "/sign-in?signed_out=1",
        status_code=303,
        cookies=[_session_cookie("", settings, timedelta(0))],
    )


async def _field(request: Request, name: str) -> str:
    form = await request.form()
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


@get("/sign-in")
async def ask_for_link(signed_out: FromQuery[bool] = False) -> Template:
    return Template("sign_in/ask.html", context={"signed_out": signed_out})


@post("/sign-in")
async def send_link(request: Request, conn: Db, settings: AppSettings) -> Template | Redirect:
    entered = await _field(request, "email")
    try:
        email = normal_email(entered)
    except InvalidDetail:
        return Template(
            "sign_in/ask.html",
            context={
                "email": entered,
                "error": "Please enter an e-mail address, like name@example.org.",
            },
            status_code=422,
        )
    if not (settings.public_base_url and settings.mail_enabled):
        # The link can go nowhere; say the same as always, and tell the operator.
        log.warning("sign_in_link_not_sent", reason="PUBLIC_BASE_URL or SMTP_HOST is not set")
        return Redirect("/sign-in/sent", status_code=303)
    for link in await new_links_for(conn, email, settings.token_hash_key):
        await mail_sign_in_link(conn, link, settings.public_base_url)
    return Redirect("/sign-in/sent", status_code=303)


@get("/sign-in/sent")
async def link_sent() -> Template:
    return Template("sign_in/sent.html")


@get("/sign-in/link")
async def confirm_link(code: FromQuery[str] = "") -> Template:
    return Template("sign_in/confirm.html", context={"code": code})


@post("/sign-in/link")
async def use_link(
    request: Request, conn: Db, settings: AppSettings, correlation_id: CorrelationId
) -> Template | Redirect:
    issued = await session_from_link(
        conn,
        await _field(request, "code"),
        hash_key=settings.token_hash_key,
        correlation_id=correlation_id,
    )
    if issued is None:
        return Template("sign_in/ask.html", context={"error": EXPIRED_LINK}, status_code=400)
    return _signed_in(issued.secret, settings)


@get("/invitation")
async def open_invitation() -> Template:
    return Template("sign_in/invitation.html")


@post("/invitation")
async def accept_invitation(
    request: Request, conn: Db, settings: AppSettings, correlation_id: CorrelationId
) -> Template | Redirect:
    redeemed = await invitations.redeem(
        conn,
        await _field(request, "code"),
        lifetime=SESSION_LIFETIME,
        hash_key=settings.token_hash_key,
        correlation_id=correlation_id,
    )
    if redeemed is None:
        return Template(
            "sign_in/invitation.html", context={"error": EXPIRED_INVITATION}, status_code=400
        )
    await record_session(conn, redeemed.token, "invitation")
    return _signed_in(redeemed.token.secret, settings)


@post("/sign-out")
async def sign_out(
    conn: Db, viewer: SignedIn, settings: AppSettings, correlation_id: CorrelationId
) -> Redirect:
    caller = viewer.caller
    if caller.token_id is not None:
        metadata = metadata_for(caller, correlation_id)
        await identity.revoke_token(conn, caller.token_id, caller.user_id, metadata)
    return _signed_out(settings)


@post("/sign-out/everywhere")
async def sign_out_everywhere(
    conn: Db, viewer: SignedIn, settings: AppSettings, correlation_id: CorrelationId
) -> Redirect:
    caller = viewer.caller
    await end_sessions_of(conn, caller.user_id, metadata_for(caller, correlation_id))
    return _signed_out(settings)


@get("/")
async def home(viewer: SignedIn) -> Template | Redirect:
    if viewer.landing != "/":
        return Redirect(viewer.landing, status_code=303)
    return Template("home.html", context={"viewer": viewer})


ROUTES = [
    ask_for_link,
    send_link,
    link_sent,
    confirm_link,
    use_link,
    open_invitation,
    accept_invitation,
    sign_out,
    sign_out_everywhere,
    home,
]
