"""Staff in a real browser: approve a sign-up, suspend with a reason, block a domain; the
admin pages on a phone."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.helpers.browser import Tabs, log_in, sign_up
from tests.helpers.processes import Server, gapo

PASSWORD = "a good long passphrase"


def make_admin(server: Server, name: str = "rooty") -> None:
    made = gapo(
        server.data_dir,
        "user",
        "create",
        name,
        "--email",
        f"{name}@example.org",
        "--admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr


def act(page: Page, action: str, reason: str) -> None:
    page.get_by_label("Action").select_option(action)
    page.get_by_label("Reason (required, kept in the audit log)").fill(reason)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("main").get_by_role("status")).to_contain_text("Done")


def test_approve_a_sign_up(tabs: Tabs, server: Server) -> None:
    """The admin switches to approval, a newcomer waits, the admin approves, she logs in."""
    make_admin(server)
    admin = tabs.open(server.base_url)
    log_in(admin, "rooty")
    admin.get_by_text("Menu").click()
    admin.get_by_role("link", name="Administration").click()
    expect(admin.locator("h1")).to_have_text("Dashboard")
    admin.get_by_role("link", name="Registrations").click()
    admin.get_by_label("Anyone, after a moderator approves").check()
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator("main").get_by_role("status")).to_contain_text("without a restart")

    newcomer = tabs.open(server.base_url)
    newcomer.goto("/signup")
    newcomer.get_by_label("Username", exact=True).fill("nia")
    newcomer.get_by_label("Email").fill("nia@example.org")
    newcomer.get_by_label("Password").fill(PASSWORD)
    newcomer.get_by_role("button", name="Sign up").click()
    expect(newcomer.locator("main")).to_contain_text("approv")

    admin.get_by_role("link", name="Accounts").click()
    admin.get_by_label("Show").select_option("pending")
    admin.get_by_role("button", name="Search").last.click()
    admin.get_by_role("link", name=re.compile("@nia")).click()
    act(admin, "approve", "Introduced by a member")
    expect(admin.locator("[data-state]")).to_contain_text("active")

    log_in(newcomer, "nia")
    expect(newcomer.get_by_role("button", name="Log out")).to_be_visible()


def test_suspend_with_a_reason(tabs: Tabs, server: Server) -> None:
    """No reason, no suspension (the form asks for one); with it the profile is gone and
    the audit log tells who, what and why."""
    make_admin(server)
    sam = tabs.open(server.base_url)
    sign_up(sam, "sam")
    admin = tabs.open(server.base_url)
    log_in(admin, "rooty")
    admin.goto("/admin/accounts?q=sam")
    admin.get_by_role("link", name=re.compile("@sam")).click()
    admin.get_by_label("Action").select_option("suspend")
    admin.get_by_role("button", name="Apply").click()
    # The browser refuses to send the form without a reason.
    expect(admin.locator("main").get_by_role("status")).to_have_count(0)
    act(admin, "suspend", "Threats against a member")
    expect(admin.locator("[data-state]")).to_contain_text("suspended")

    visitor = tabs.open(server.base_url)
    assert visitor.goto("/@sam").status == 404  # type: ignore[union-attr]
    sam.goto("/home")
    expect(sam).to_have_url(re.compile(r"/login"))

    admin.get_by_role("link", name="Audit log").click()
    entry = admin.locator(".admin-log li").first
    expect(entry).to_contain_text("@rooty")
    expect(entry).to_contain_text("suspend")
    expect(entry).to_contain_text("@sam")
    expect(entry).to_contain_text("Threats against a member")


def test_block_a_domain(tabs: Tabs, server: Server) -> None:
    make_admin(server)
    admin = tabs.open(server.base_url)
    log_in(admin, "rooty")
    admin.goto("/admin/federation")
    # The page has two domain fields (the allowlist's and the blocks'): this one's section.
    blocks = admin.get_by_role("region", name="Domain blocks")
    blocks.get_by_label("Domain", exact=True).fill("spam.example")
    blocks.get_by_label("Severity").select_option("suspend")
    blocks.get_by_label("Reject media files").check()
    blocks.get_by_label("Public reason").fill("Spam")
    blocks.get_by_role("button", name="Block", exact=True).click()
    expect(admin.locator("main").get_by_role("status")).to_contain_text("Saved")
    row = admin.locator("#domain-blocks tr", has_text="spam.example")
    expect(row).to_contain_text("suspend")
    expect(row).to_contain_text("reject media")
    with admin.expect_download() as download:
        admin.get_by_role("link", name="Export domain_blocks.csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "spam.example,suspend,true,false,Spam,false" in text


def test_admin_pages_fit_a_phone(tabs: Tabs, server: Server) -> None:
    """Every admin page fits a phone's width: nothing scrolls sideways but wide tables,
    which scroll in their own box."""
    make_admin(server)
    phone = tabs.open(server.base_url, viewport={"width": 360, "height": 740})
    log_in(phone, "rooty")
    for path in (
        "/admin",
        "/admin/accounts",
        "/admin/federation",
        "/admin/registrations",
        "/admin/settings",
        "/admin/log",
    ):
        phone.goto(path)
        overflow = phone.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (path, overflow)


def test_report_and_resolve(tabs: Tabs, server: Server) -> None:
    """A person reports from a profile; a moderator resolves it with an action and a
    reason; the reporter is told."""
    make_admin(server)
    sam = tabs.open(server.base_url)
    sign_up(sam, "sam")
    rea = tabs.open(server.base_url)
    sign_up(rea, "rea")
    rea.goto("/@sam")
    rea.get_by_role("link", name="Report").click()
    rea.get_by_label("What is wrong (optional)").fill("Sends me threats")
    rea.get_by_role("button", name="Send the report").click()
    expect(rea.locator("main").get_by_role("status")).to_contain_text("Thank you")

    admin = tabs.open(server.base_url)
    log_in(admin, "rooty")
    admin.goto("/admin/reports")
    admin.get_by_role("link", name=re.compile("@sam, reported by @rea")).click()
    expect(admin.locator("main")).to_contain_text("Sends me threats")
    admin.get_by_label("Action on the account").select_option("suspend")
    admin.get_by_label("Reason (required, kept in the audit log)").fill("Threats confirmed")
    admin.get_by_role("button", name="Resolve").click()
    expect(admin.locator("[data-state]")).to_contain_text("resolved: suspend")

    rea.goto("/notifications")
    expect(rea.locator("main")).to_contain_text("Your report was handled")
