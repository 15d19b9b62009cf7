"""Sending one e-mail over SMTP, on a connection kept open between e-mails (aiosmtplib).

A kept connection may have been closed by the server while idle (servers drop idle clients
after a few minutes): one idle for more than `CHECK_IDLE_AFTER_SECONDS` is checked with a NOOP
before it carries an e-mail, and replaced if it fails, so that an idle spell costs no e-mail a
failed attempt. One idle for `CLOSE_IDLE_AFTER_SECONDS` is closed.
"""

import asyncio
import re
import ssl
import time
from email.message import EmailMessage

import aiosmtplib
import structlog

from infra.config import Settings
from infra.db.outages import describe

log = structlog.get_logger(__name__)

CHECK_IDLE_AFTER_SECONDS = 5.0
CLOSE_IDLE_AFTER_SECONDS = 60.0
USUAL_PORTS = {"none": 25, "starttls": 587, "tls": 465}
# Anything shaped like an address: a refusal names its recipient (aiosmtplib's error does, and
# servers' replies mostly do), and a reason goes to the logs and the outbox's `last_error`.
_ADDRESS = re.compile(r"[^\s<>()\[\],;:'\"]+@[^\s<>()\[\],;:'\"]+")


class SendFailed(Exception):
    """An e-mail that did not go out. `permanent` when the server refused it for good (its
    recipient, or its content: an SMTP 5xx to either), so that trying again cannot help; every
    other failure (no connection, a timeout, a 4xx, a refused login or sender, which a fix of
    the configuration cures) is tried again later."""

    def __init__(self, reason: str, *, permanent: bool, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.unreachable = unreachable


class SmtpSender:
    """The one SMTP connection of a sender, opened when first needed and kept."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: aiosmtplib.SMTP | None = None
        self._used_at = 0.0

    async def send(self, message: EmailMessage) -> None:
        """Sends `message` within `SMTP_TIMEOUT_SECONDS`, or raises SendFailed."""
        try:
            async with asyncio.timeout(self._settings.smtp_timeout_seconds):
                client = await self._ready()
                await client.send_message(message)
        except (
            aiosmtplib.SMTPRecipientsRefused,
            aiosmtplib.SMTPRecipientRefused,
            aiosmtplib.SMTPDataError,
        ) as error:
            reason = _without_addresses(describe(error))
            raise SendFailed(reason, permanent=_refused_for_good(error)) from error
        except TimeoutError as error:  # before OSError, of which it is one
            # Cut in the middle of a conversation: the connection is in no state to reuse.
            await self.close()
            seconds = self._settings.smtp_timeout_seconds
            reason = f"TimeoutError: no answer within {seconds} s"
            raise SendFailed(reason, permanent=False, unreachable=True) from error
        except OSError as error:  # refused, reset, disconnected: aiosmtplib's are OSErrors too
            await self.close()
            raise SendFailed(describe(error), permanent=False, unreachable=True) from error
        except aiosmtplib.SMTPException as error:
            await self.close()
            raise SendFailed(_without_addresses(describe(error)), permanent=False) from error
        self._used_at = time.monotonic()

    async def close_if_idle(self) -> None:
        if self._client is not None and time.monotonic() - self._used_at > CLOSE_IDLE_AFTER_SECONDS:
            await self.close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            async with asyncio.timeout(1):
                await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()

    async def _ready(self) -> aiosmtplib.SMTP:
        client = self._client
        if client is not None and client.is_connected:
            if time.monotonic() - self._used_at < CHECK_IDLE_AFTER_SECONDS:
                return client
            try:
                await client.noop()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
            else:
                return client
        self._client = None
        client = self._new_client()
        await client.connect()
        self._client = client
        return client

    def _new_client(self) -> aiosmtplib.SMTP:
        settings = self._settings
        context = None
        if settings.smtp_security != "none":
            context = ssl.create_default_context(cafile=settings.smtp_ca_file or None)
        return aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port or USUAL_PORTS[settings.smtp_security],
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            tls_context=context,
            timeout=settings.smtp_timeout_seconds,
        )


def _without_addresses(reason: str) -> str:
    return _ADDRESS.sub("<address>", reason)


def _refused_for_good(error: aiosmtplib.SMTPException) -> bool:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(each.code >= 500 for each in error.recipients)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return error.code >= 500
    return False
