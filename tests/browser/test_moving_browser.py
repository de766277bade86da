"""The Moving settings page in a real browser: the new account names the old one as an alias,
the old one moves there (a wrong password first), its follower is notified and its profile
points to the new account, and the move is cancelled again."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.helpers.browser import Tabs, sign_up
from tests.helpers.processes import Server


def test_alias_move_and_cancel_on_the_moving_page(page: Page, tabs: Tabs, server: Server) -> None:
    host = urlsplit(server.base_url).netloc
    sign_up(page, "oldhome")
    fan = tabs.open(server.base_url)
    sign_up(fan, "fan")
    fan.goto("/@oldhome")
    fan.get_by_role("main").get_by_role("button", name="Follow", exact=True).click()
    expect(fan.get_by_role("main").get_by_role("button", name="Unfollow")).to_be_visible()

    # The new account names the old one: its server will agree to the move.
    newhome = tabs.open(server.base_url)
    sign_up(newhome, "newhome")
    newhome.goto("/settings/moving")
    newhome.get_by_label("Address of the old account").fill(f"@oldhome@{host}")
    newhome.get_by_role("button", name="Add alias").click()
    expect(newhome.get_by_text("The alias was added.")).to_be_visible()
    expect(newhome.locator("ul.aliases")).to_contain_text(f"@oldhome@{host}")

    page.goto("/settings/moving")
    move = page.locator("form", has=page.get_by_role("button", name="Move my account"))
    move.get_by_label("Address of the new account").fill(f"@newhome@{host}")
    move.get_by_label("Current password").fill("not the password at all")
    move.get_by_role("button", name="Move my account").click()
    expect(page.get_by_role("alert")).to_contain_text("password")
    expect(page.locator("#moved-notice")).to_have_count(0)

    move = page.locator("form", has=page.get_by_role("button", name="Move my account"))
    move.get_by_label("Address of the new account").fill(f"@newhome@{host}")
    move.get_by_label("Current password").fill("a good long passphrase")
    move.get_by_role("button", name="Move my account").click()
    expect(page.locator("#moved-notice")).to_contain_text(f"@newhome@{host}")
    expect(page.get_by_text("You can move again on")).to_be_visible()

    fan.goto("/@oldhome")
    expect(fan.locator("#moved-to")).to_contain_text("@newhome")
    # The migration is a job: each visit is a real page load, until its notification is there.
    moved = fan.locator(".notification-move")
    for _ in range(50):
        fan.goto("/notifications")
        if moved.count():
            break
    expect(moved).to_contain_text("moved to a new account")

    page.get_by_role("button", name="Cancel the move").click()
    expect(page.locator("#cancelled-notice")).to_be_visible()
    expect(page.locator("#moved-notice")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel the move")).to_have_count(0)
    expect(page.get_by_text("You can move again on")).to_be_visible()
    fan.goto("/@oldhome")
    expect(fan.get_by_role("heading", level=1)).to_be_visible()
    expect(fan.locator("#moved-to")).to_have_count(0)
