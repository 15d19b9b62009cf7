"""A client in a real browser: signs in from the e-mailed link, sees their goals and checks in,
with JavaScript (the card changes in place) and without (the form posts and comes back), at
desktop and phone widths; axe-core finds nothing serious on the way."""

import asyncpg
import httpx
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.integration.api.support import project_everything
from tests.integration.api.world import Clinic, goal_body
from tests.integration.mail.smtp_server import SmtpServer
from tests.integration.web.browser import (
    DESKTOP,
    PHONE,
    accessibility_problems,
    assert_fits_a_phone,
    link_mailed_to,
    screenshot,
)

CLIENT_EMAIL = "north.client@example.org"


def _watch_policy(page: Page, blocked: list[str]) -> None:
    """Collects what the Content-Security-Policy blocked: nothing should be."""
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )


async def _sign_in(context: BrowserContext, base_url: str, smtp: SmtpServer, mails: int) -> Page:
    page = await context.new_page()
    await page.goto(f"{base_url}/sign-in")
    assert await accessibility_problems(page) == []
    await screenshot(page, "sign-in-desktop")
    await page.get_by_label("E-mail address").fill(CLIENT_EMAIL)
    await page.get_by_role("button", name="Send me a link").click()
    await expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    await page.goto(await link_mailed_to(smtp.mailbox, CLIENT_EMAIL, mails))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="My goals")).to_be_visible()
    return page


async def test_a_client_signs_in_from_the_e_mail_and_checks_in(
    browser: Browser,
    served_web: str,
    smtp: SmtpServer,
    clinic: Clinic,
    pool: asyncpg.Pool,
    projector: None,
) -> None:
    async with httpx.AsyncClient(base_url=served_web) as api:
        body = goal_body(client_id=str(clinic.client.id))
        goal = (await api.post("/v1/goals", json=body, headers=clinic.therapist.headers)).json()
    await project_everything(pool)
    card_id = f"#goal-{goal['goal_id']}"
    blocked: list[str] = []

    desktop = await browser.new_context(viewport=DESKTOP)
    page = await _sign_in(desktop, served_web, smtp, 0)
    _watch_policy(page, blocked)
    card = page.locator(card_id)
    await expect(card).to_contain_text("0 of 3 walks")
    assert await accessibility_problems(page) == []
    # With JavaScript, htmx swaps the card alone: the page is never loaded again.
    await page.evaluate("window.stillTheSamePage = true")
    await card.get_by_role("button", name="Check in").click()
    await expect(card).to_contain_text("1 of 3 walks")
    await expect(card).to_contain_text("Checked in. Well done!")
    assert await page.evaluate("window.stillTheSamePage === true")
    assert await accessibility_problems(page) == []
    await screenshot(page, "my-goals-desktop")

    # Without JavaScript, the same form posts, and the browser comes back to the page.
    session = await desktop.storage_state()
    no_script = await browser.new_context(
        viewport=DESKTOP, java_script_enabled=False, storage_state=session
    )
    plain = await no_script.new_page()
    await plain.goto(f"{served_web}/my/goals")
    async with plain.expect_navigation():
        await plain.locator(card_id).get_by_role("button", name="Check in").click()
    assert "/my/goals?checked_in=" in plain.url
    await expect(plain.locator(card_id)).to_contain_text("2 of 3 walks")

    phone = await browser.new_context(viewport=PHONE, storage_state=session)
    small = await phone.new_page()
    _watch_policy(small, blocked)
    await small.goto(f"{served_web}/my/goals")
    await expect(small.locator(card_id)).to_contain_text("2 of 3 walks")
    await assert_fits_a_phone(small)
    assert await accessibility_problems(small) == []
    await screenshot(small, "my-goals-phone")
    assert blocked == []
    for context in (desktop, no_script, phone):
        await context.close()
