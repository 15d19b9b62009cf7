"""A real SMTP server for the tests (aiosmtpd), on loopback, which a test may stop and start
again on the same port, and tell to hold, delay or refuse e-mail."""

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.processes import free_port

# aiosmtpd tells of every connection at INFO: noise beside the service's own logs.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class Mailbox:
    """What the server accepted, and how it answers; safe to use from the tests' thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted: list[EmailMessage] = []
        self.refused_recipients: set[str] = set()
        self.delay_seconds = 0.0
        # While set, the server takes the next e-mail's data and answers nothing until it is
        # released; `held` says an e-mail is being held.
        self.hold = threading.Event()
        self.held = threading.Event()
        self.release = threading.Event()
        self.answer_held_with = "250 OK"

    @property
    def accepted(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._accepted)

    def message_ids(self) -> Counter[str]:
        return Counter(str(message["Message-ID"]) for message in self.accepted)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's name for the hook
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refused_recipients:
            # As servers commonly word it, naming the address refused.
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's name for the hook
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.hold.is_set():
            self.hold.clear()
            self.held.set()
            await asyncio.to_thread(self.release.wait)
            if not self.answer_held_with.startswith("250"):
                return self.answer_held_with
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self._accepted.append(message)
        return "250 OK"


def body(message: EmailMessage, kind: str) -> str:
    """The text of the message's `plain` or `html` part."""
    part = message.get_body((kind,))
    assert part is not None, f"no {kind} part"
    content: str = part.get_content()
    return content


class SmtpServer:
    def __init__(self, mailbox: Mailbox, **controller_options: Any) -> None:
        self.mailbox = mailbox
        self.port = free_port()
        self._options = controller_options
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=self.port, **self._options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def smtp_server(**controller_options: Any) -> Iterator[SmtpServer]:
    server = SmtpServer(Mailbox(), **controller_options)
    server.start()
    try:
        yield server
    finally:
        server.mailbox.release.set()
        server.stop()
