"""`SMTP_SECURITY`, the login and `SMTP_CA_FILE`, against a real server with a certificate of
a private authority: nothing goes out over a connection the settings do not allow."""

import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from infra.config import Settings
from infra.mail.smtp import SendFailed, SmtpSender
from tests.integration.mail.conftest import MAIL_FROM
from tests.integration.mail.smtp_server import SmtpServer, smtp_server

LOGIN, PASSWORD = "mailer", "a long secret"


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(authority: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return str(path)


def _server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


def _check_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        LOGIN.encode(),
        PASSWORD.encode(),
    )
    # Not `handled`: the server answers a refusal with its own 535.
    return AuthResult(success=good, handled=False)


@pytest.fixture
def starttls_server(authority: trustme.CA) -> Iterator[SmtpServer]:
    with smtp_server(
        tls_context=_server_context(authority),
        require_starttls=True,
        auth_required=True,
        authenticator=_check_login,
    ) as server:
        yield server


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = MAIL_FROM
    message["To"] = "riley@example.org"
    message["Subject"] = "You have a new update from your care team"
    message.set_content("Hello")
    return message


async def _send(settings: Settings) -> None:
    sender = SmtpSender(settings)
    try:
        await sender.send(_message())
    finally:
        await sender.close()


def _settings(server: SmtpServer, **changes: Any) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        mail_from=MAIL_FROM,
        smtp_timeout_seconds=5,
        **changes,
    )


async def test_starttls_with_a_login_and_the_clinics_own_authority(
    starttls_server: SmtpServer, ca_file: str
) -> None:
    await _send(
        _settings(
            starttls_server,
            smtp_security="starttls",
            smtp_ca_file=ca_file,
            smtp_username=LOGIN,
            smtp_password=PASSWORD,
        )
    )

    assert len(starttls_server.mailbox.accepted) == 1


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"smtp_security": "starttls", "smtp_username": LOGIN}, "certificate"),
        ({"smtp_security": "none", "smtp_username": LOGIN}, "STARTTLS"),
        ({"smtp_security": "starttls", "smtp_username": LOGIN, "smtp_password": "wrong"}, "535"),
    ],
    ids=["untrusted_certificate", "no_encryption", "wrong_password"],
)
async def test_what_the_settings_do_not_allow_fails_and_is_tried_again_later(
    starttls_server: SmtpServer, ca_file: str, changes: dict[str, str], why: str
) -> None:
    if changes.get("smtp_security") == "starttls" and why != "certificate":
        changes = {**changes, "smtp_ca_file": ca_file}
    settings = _settings(starttls_server, **({"smtp_password": PASSWORD} | changes))

    with pytest.raises(SendFailed, match=why) as failed:
        await _send(settings)

    assert not failed.value.permanent  # a fix of the configuration delivers it
    assert starttls_server.mailbox.accepted == []


async def test_tls_from_the_first_byte(authority: trustme.CA, ca_file: str) -> None:
    with smtp_server(ssl_context=_server_context(authority)) as server:
        await _send(_settings(server, smtp_security="tls", smtp_ca_file=ca_file))

        assert len(server.mailbox.accepted) == 1
