"""The browser tests' tools: Debian's headless Chromium driven by Playwright (never a browser
Playwright downloads), axe-core from the locked `axe-playwright-python` package, and the
service as an operator runs it, with e-mail going to a test SMTP server."""

import asyncio
import re
import shutil
import time
from pathlib import Path

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, ViewportSize

from tests.integration.mail.smtp_server import Mailbox, body

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "web"
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
_LINK = re.compile(r"http://\S+/sign-in/link\?code=\S+")


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None. `make test` installs Chromium first."""
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        return "Chromium is not installed (`make browser` installs it from Debian's packages)"
    return None


async def accessibility_problems(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, as readable lines."""
    results = await Axe().run(page)
    return [
        f"{violation['impact']}: {violation['id']}: {violation['help']} "
        f"({[node['target'] for node in violation['nodes']]})"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


async def link_mailed_to(mailbox: Mailbox, address: str, already: int, within: float = 10) -> str:
    """The sign-in link of the first e-mail to `address` after the `already` ones before."""
    deadline = time.monotonic() + within
    while True:
        mails = [mail for mail in mailbox.accepted if address in str(mail["To"])]
        if len(mails) > already:
            found = _LINK.search(body(mails[already], "plain"))
            assert found is not None, body(mails[already], "plain")
            return found.group(0)
        assert time.monotonic() < deadline, f"no e-mail came for {address}"
        await asyncio.sleep(0.05)


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


async def assert_fits_a_phone(page: Page) -> None:
    """The page does not scroll sideways at a phone's width."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways on a phone"
