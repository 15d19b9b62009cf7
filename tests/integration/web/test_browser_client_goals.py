"""A client in a real browser sets a goal through the guided form, checks in three times and
watches the chart move, closes a goal as "not this time" with a reflection, and tries again;
axe-core finds nothing serious on any page on the way, at desktop and phone widths."""

import asyncpg
from playwright.async_api import Browser, Page, expect

from tests.integration.api.world import Clinic
from tests.integration.mail.smtp_server import SmtpServer
from tests.integration.web.browser import (
    DESKTOP,
    PHONE,
    accessibility_problems,
    assert_fits_a_phone,
    screenshot,
)
from tests.integration.web.test_browser_client import _sign_in, _watch_policy


async def _last_bar_height(page: Page) -> float:
    return float(await page.locator("rect.chart__bar").last.get_attribute("height") or "0")


async def _check_in(page: Page, done: int) -> None:
    before = await _last_bar_height(page)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Check in").click()
    await expect(page.get_by_role("status")).to_contain_text("Checked in. Well done!")
    await expect(page.locator("figcaption")).to_contain_text(f"{done} of 3 walks")
    assert await _last_bar_height(page) > before, "the chart's bar for this week grows"


async def test_a_client_sets_a_goal_checks_in_reflects_and_tries_again(
    browser: Browser,
    served_web: str,
    smtp: SmtpServer,
    clinic: Clinic,
    pool: asyncpg.Pool,
    projector: None,
) -> None:
    blocked: list[str] = []
    desktop = await browser.new_context(viewport=DESKTOP)
    page = await _sign_in(desktop, served_web, smtp, 0)
    _watch_policy(page, blocked)

    await page.get_by_role("link", name="Set a goal").click()
    await expect(page.get_by_role("heading", name="Set a goal")).to_be_visible()
    assert await accessibility_problems(page) == []
    await page.get_by_label("Your goal, in a few words").fill("Walk after lunch")
    await page.get_by_label("How you will keep track").select_option("count")
    await page.get_by_label("What you count").fill("walks")
    await page.get_by_label("How often").select_option("per_week")
    await page.get_by_label("How many each time period").fill("3")
    await page.get_by_label("The part of life it serves").select_option("physical_health")
    await page.get_by_label("The values it serves (optional)").fill("health")
    await screenshot(page, "set-a-goal-desktop")
    await page.get_by_role("button", name="Set this goal").click()
    await expect(page.get_by_role("heading", name="Walk after lunch")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("Your goal is set.")
    goal_url = page.url.split("?")[0]

    for done in (1, 2, 3):
        await _check_in(page, done)
    assert await accessibility_problems(page) == []
    await screenshot(page, "goal-desktop")

    await page.get_by_label("Things got in the way").check()
    await page.get_by_label("In your own words (optional)").fill("A busy month at work")
    await page.get_by_role("button", name='Close as "not this time"').click()
    await expect(page.get_by_role("heading", name="Not this time")).to_be_visible()
    await expect(page.get_by_text("A busy month at work").first).to_be_visible()
    assert await accessibility_problems(page) == []

    await page.get_by_role("link", name="Try again").click()
    await expect(page.get_by_role("heading", name="Try again")).to_be_visible()
    await expect(page.locator("#pace")).to_contain_text("Last time you did")
    assert await accessibility_problems(page) == []
    await page.get_by_label("How many each time period").fill("2")
    await page.get_by_role("button", name="Set this goal").click()
    await expect(page.get_by_role("status")).to_contain_text("Your goal is set.")
    await expect(page.locator("figcaption")).to_contain_text("0 of 2 walks")
    await page.get_by_role("link", name="My goals", exact=True).click()
    await page.get_by_role("link", name="Walk after lunch").first.click()  # newest first
    await expect(page.locator("figcaption")).to_contain_text("0 of 2 walks")

    for label in ("Nudges", "Notifications", "Who has looked"):
        await page.get_by_role("link", name=label).click()
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert await accessibility_problems(page) == [], label

    session = await desktop.storage_state()
    phone = await browser.new_context(viewport=PHONE, storage_state=session)
    small = await phone.new_page()
    _watch_policy(small, blocked)
    for url, name in ((goal_url, "goal-phone"), (f"{served_web}/my/goals/new", "set-a-goal-phone")):
        await small.goto(url)
        await assert_fits_a_phone(small)
        assert await accessibility_problems(small) == [], name
        await screenshot(small, name)
    assert blocked == []
    for context in (desktop, phone):
        await context.close()
