"""A therapist and a partner in a real browser: the therapist finds the client on the caseload
with the right flag and rates a goal; the partner encourages, and the client finds it in their
nudges (the API's inbox and the Nudges page). At desktop and phone widths, axe-core finds
nothing serious on any page."""

from datetime import UTC, datetime, time, timedelta

import asyncpg
import httpx
from playwright.async_api import Browser, BrowserContext, Page, expect

from infra.nudges.scanner import scan
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

THERAPIST_EMAIL = "north.therapist@example.org"
SUPPORTER_EMAIL = "north.supporter@example.org"


async def _signed_in(
    context: BrowserContext, base_url: str, smtp: SmtpServer, email: str, landing: str
) -> Page:
    page = await context.new_page()
    await page.goto(f"{base_url}/sign-in")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_role("button", name="Send me a link").click()
    await expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    await page.goto(await link_mailed_to(smtp.mailbox, email, 0))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name=landing)).to_be_visible()
    return page


async def test_a_therapist_rates_a_goal_and_a_partner_encourages(
    browser: Browser,
    served_web: str,
    smtp: SmtpServer,
    clinic: Clinic,
    pool: asyncpg.Pool,
    projector: None,
) -> None:
    soon = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    async with httpx.AsyncClient(base_url=served_web) as api:
        body = goal_body(client_id=str(clinic.client.id), due_date=soon)
        goal = (await api.post("/v1/goals", json=body, headers=clinic.therapist.headers)).json()
        goal_id = goal["goal_id"]
        shared = await api.post(
            f"/v1/goals/{goal_id}/supporters/{clinic.supporter.id}",
            headers=clinic.client.headers,
        )
        assert shared.status_code == 200, shared.text
    await project_everything(pool)

    desktop = await browser.new_context(viewport=DESKTOP)
    page = await _signed_in(desktop, served_web, smtp, THERAPIST_EMAIL, "Caseload")
    row = page.locator(f"#client-{clinic.client.id}")
    await expect(row).to_contain_text("north client")
    await expect(row).to_contain_text("A goal due within 7 days")
    await expect(page.get_by_text("north other_client")).to_have_count(0)
    assert await accessibility_problems(page) == []
    await screenshot(page, "caseload-desktop")

    await row.get_by_role("link", name="north client").click()
    await expect(page.get_by_role("heading", name="north client")).to_be_visible()
    card = page.locator(f"#goal-{goal_id}")
    await expect(card).to_contain_text("Not rated yet")
    assert await accessibility_problems(page) == []
    await card.get_by_label("Rate attainment").select_option("1")
    await card.get_by_role("button", name="Save rating").click()
    await expect(card).to_contain_text("Rating saved.")
    await expect(card).to_contain_text("+1: somewhat more than expected")
    await expect(page.get_by_text("from 1 rated goal")).to_be_visible()
    assert await accessibility_problems(page) == []
    await screenshot(page, "client-page-desktop")
    session = await desktop.storage_state()

    phone = await browser.new_context(viewport=PHONE, storage_state=session)
    small = await phone.new_page()
    for path, name in (
        ("/caseload", "caseload-phone"),
        (f"/caseload/clients/{clinic.client.id}", "client-page-phone"),
    ):
        await small.goto(f"{served_web}{path}")
        await assert_fits_a_phone(small)
        assert await accessibility_problems(small) == []
        await screenshot(small, name)

    partner = await browser.new_context(viewport=PHONE)
    shared_page = await _signed_in(
        partner, served_web, smtp, SUPPORTER_EMAIL, "Goals shared with you"
    )
    shared_card = shared_page.locator(f"#goal-{goal_id}")
    await expect(shared_card).to_contain_text("Walk for 30 minutes")
    assert await accessibility_problems(shared_page) == []
    await shared_card.get_by_label("Send encouragement").fill("Proud of you, keep going!")
    await shared_card.get_by_role("button", name="Send").click()
    await expect(shared_card).to_contain_text("Sent.")
    await assert_fits_a_phone(shared_page)
    assert await accessibility_problems(shared_page) == []
    await screenshot(shared_page, "shared-goals-phone")

    # The workers' scan delivers it at noon tomorrow, outside the client's quiet hours.
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    async with pool.acquire() as conn:
        await scan(conn, datetime.combine(tomorrow, time(11), UTC), due_soon_days=3, email=None)
    async with httpx.AsyncClient(base_url=served_web) as api:
        inbox = await api.get("/v1/me/nudges", headers=clinic.client.headers)
    messages = [item["message"] for item in inbox.json()["items"]]
    assert any(message.endswith("Proud of you, keep going!") for message in messages), messages
    # And the client finds it in their nudges inbox.
    client = await browser.new_context(viewport=PHONE)
    inbox_page = await _signed_in(client, served_web, smtp, "north.client@example.org", "My goals")
    await inbox_page.goto(f"{served_web}/nudges")
    await expect(inbox_page.get_by_text("Proud of you, keep going!")).to_be_visible()
    for context in (desktop, phone, partner, client):
        await context.close()
