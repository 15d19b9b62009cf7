"""An admin and an auditor in a real browser: the admin invites someone (the test SMTP server
catches the invitation) and deactivates a client, whose open session then stops working; the
auditor checks that the log is whole, opens the access log and, from it, a goal's history
with its correction. axe-core finds nothing serious on any page, at desktop and phone widths."""

import asyncio
import time
import uuid

import asyncpg
import httpx
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.integration.api.world import Clinic, goal_body
from tests.integration.mail.smtp_server import Mailbox, SmtpServer, body
from tests.integration.web.browser import (
    DESKTOP,
    PHONE,
    accessibility_problems,
    assert_fits_a_phone,
    link_mailed_to,
    screenshot,
)

ADMIN = "admin@north.example"
AUDITOR = "north.auditor@example.org"
CLIENT = "north.client@example.org"
INVITED = "robin.lake@example.org"


async def _signed_in(context: BrowserContext, base_url: str, mailbox: Mailbox, email: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{base_url}/sign-in")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_role("button", name="Send me a link").click()
    await expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    await page.goto(await link_mailed_to(mailbox, email, 0))
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/sign-in" not in url)
    return page


async def _invitation_to(mailbox: Mailbox, address: str, within: float = 10) -> str:
    deadline = time.monotonic() + within
    while True:
        for mail in mailbox.accepted:
            if address in str(mail["To"]) and "/invitation#code=" in body(mail, "plain"):
                return body(mail, "plain")
        assert time.monotonic() < deadline, f"no invitation came for {address}"
        await asyncio.sleep(0.05)


async def _a_corrected_goal(base_url: str, clinic: Clinic) -> str:
    async with httpx.AsyncClient(base_url=base_url) as api:
        body_ = goal_body(client_id=str(clinic.client.id))
        goal = (await api.post("/v1/goals", json=body_, headers=clinic.therapist.headers)).json()
        path = f"/v1/goals/{goal['goal_id']}"
        check_in = str(uuid.uuid4())
        done = await api.post(
            f"{path}/check-ins",
            json={"amount": 1, "check_in_id": check_in},
            headers=clinic.client.headers,
        )
        assert done.status_code in {200, 201}, done.text
        corrected = await api.post(
            f"{path}/corrections",
            json={"scope": "check_in", "check_in_id": check_in, "reason": "Counted twice"},
            headers=clinic.therapist.headers,
        )
        assert corrected.status_code == 200, corrected.text
        assert (await api.get(path, headers=clinic.auditor.headers)).status_code in {200, 403}
        return str(goal["goal_id"])


async def test_an_admin_invites_and_deactivates_and_an_auditor_reads_the_record(
    browser: Browser, served_web: str, smtp: SmtpServer, clinic: Clinic, pool: asyncpg.Pool
) -> None:
    goal_id = await _a_corrected_goal(served_web, clinic)
    client = await browser.new_context(viewport=PHONE)
    client_page = await _signed_in(client, served_web, smtp.mailbox, CLIENT)
    await expect(client_page.get_by_role("heading", name="My goals")).to_be_visible()

    desktop = await browser.new_context(viewport=DESKTOP)
    admin = await _signed_in(desktop, served_web, smtp.mailbox, ADMIN)
    await expect(admin.get_by_role("heading", name="People")).to_be_visible()
    assert await accessibility_problems(admin) == []
    invite = admin.get_by_role("region", name="Invite someone")
    await invite.get_by_label("Name").fill("Robin Lake")
    await invite.get_by_label("E-mail address").fill(INVITED)
    await invite.get_by_label("Role", exact=True).select_option("client")
    await invite.get_by_role("button", name="Send invitation").click()
    await expect(admin.get_by_text("Invitation sent.")).to_be_visible()
    assert f"{served_web}/invitation#code=" in await _invitation_to(smtp.mailbox, INVITED)
    await screenshot(admin, "admin-people-desktop")

    await admin.get_by_role("link", name="north client", exact=True).click()
    assert await accessibility_problems(admin) == []
    await admin.get_by_role("button", name="Deactivate north client").click()
    await expect(admin.get_by_text("Deactivated. Their sessions")).to_be_visible()
    await client_page.reload()
    await expect(client_page.get_by_role("heading", name="Sign in")).to_be_visible()

    for name in ("Care teams", "Settings", "Webhooks"):
        await admin.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
        await expect(admin.get_by_role("heading", level=1)).to_have_text(
            "Clinic settings" if name == "Settings" else name
        )
        assert await accessibility_problems(admin) == [], name

    phone = await browser.new_context(viewport=PHONE, storage_state=await desktop.storage_state())
    small = await phone.new_page()
    await small.goto(f"{served_web}/admin/users")
    await assert_fits_a_phone(small)
    assert await accessibility_problems(small) == []
    await screenshot(small, "admin-people-phone")

    auditing = await browser.new_context(viewport=DESKTOP)
    auditor = await _signed_in(auditing, served_web, smtp.mailbox, AUDITOR)
    await expect(auditor.get_by_role("heading", name="Audit")).to_be_visible()
    await auditor.get_by_role("button", name="Check the log now").click()
    await expect(auditor.get_by_text("The log is whole: no link is broken.")).to_be_visible()
    assert await accessibility_problems(auditor) == []
    await screenshot(auditor, "auditor-desktop")
    await auditor.get_by_role("link", name="The access log").click()
    await expect(auditor.get_by_role("heading", name="Access log")).to_be_visible()
    assert await accessibility_problems(auditor) == []
    await screenshot(auditor, "access-log-desktop")
    await auditor.get_by_role("link", name=f"history of goal {goal_id[:8]}").first.click()
    await expect(auditor.get_by_role("heading", name="A goal's history")).to_be_visible()
    await expect(auditor.locator("#version-2")).to_contain_text("Entered in error")
    await expect(auditor.locator("#version-2")).to_contain_text("Why: Counted twice")
    assert await accessibility_problems(auditor) == []

    auditor_phone = await browser.new_context(
        viewport=PHONE, storage_state=await auditing.storage_state()
    )
    for path, shot in (("/audit?verify=true", "auditor-phone"), ("/audit/access-log", "")):
        small = await auditor_phone.new_page()
        await small.goto(f"{served_web}{path}")
        await assert_fits_a_phone(small)
        assert await accessibility_problems(small) == []
        if shot:
            await screenshot(small, shot)
    for context in (client, desktop, phone, auditing, auditor_phone):
        await context.close()
