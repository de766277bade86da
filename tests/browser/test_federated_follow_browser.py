"""Following someone on another Gapo, in a real browser: two `gapo serve` on loopback.

alice on instance one finds bob on instance two with the search box (WebFinger over real
HTTP), follows him (a signed Follow, answered by an Accept), and bob's next post, written
in a second browser on instance two, arrives in alice's home feed through the delivery jobs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.helpers.browser import Tabs
from tests.helpers.instances import PASSWORD, GapoInstance

pytestmark = pytest.mark.federation

# Bounds for what crosses between the instances (a Follow/Accept round trip, a delivery).
FEDERATION_SECONDS = 20


@pytest.fixture
def instances(tmp_path: Path) -> Iterator[tuple[GapoInstance, GapoInstance]]:
    """Two instances, own ports and data dirs, private addresses allowed, job runner on."""
    one = GapoInstance("one", tmp_path)
    two = GapoInstance("two", tmp_path)
    try:
        one.start()
        two.start()
        yield one, two
    finally:
        one.stop()
        two.stop()
    for instance in (one, two):
        log = instance.log_path.read_text(errors="replace")
        assert "Traceback" not in log, f"{instance.name}:\n{log[-4000:]}"


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def reload_until(page: Page, path: str, text: str, seconds: float) -> None:
    """Loads `path` again and again until `text` is in its main part, for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(path)
        if page.get_by_role("main").get_by_text(text).count():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not on {path} within {seconds}s")
        page.wait_for_timeout(300)


def test_follow_remote_account_and_see_its_new_post_at_home(
    instances: tuple[GapoInstance, GapoInstance], tabs: Tabs
) -> None:
    one, two = instances
    one.create_user("alice")
    two.create_user("bob")
    handle = two.handle("bob")  # @bob@127.0.0.1:PORT

    # alice logs in on one and finds bob with the search box in the navigation.
    alice = tabs.open(one.base_url)
    log_in(alice, "alice")
    alice.goto("/home")
    search = alice.get_by_role("navigation", name="Main").get_by_role("search")
    search.get_by_label("Search").fill(handle)
    with alice.expect_navigation():
        search.get_by_role("button", name="Search").click()

    # The result is bob's profile, fetched from two: his name, his handle, a Follow button.
    main = alice.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("bob")
    expect(main.locator(".handle").first).to_have_text(handle)
    expect(main.get_by_role("link", name="Open the original profile")).to_have_attribute(
        "href", re.compile(re.escape(two.base_url))
    )
    main.get_by_role("button", name="Follow", exact=True).click()
    # The button changes at once (pending or, if the Accept was quick, accepted).
    expect(
        main.get_by_role("button", name=re.compile(r"^(Unfollow|Cancel request)$"))
    ).to_be_visible()

    # Once two's Accept has come back, alice's profile counts bob among those she follows
    # (a pending follow does not count); reload it until it does.
    following = alice.get_by_role("main").get_by_role("link", name="Following: 1")
    deadline = time.monotonic() + FEDERATION_SECONDS
    alice.goto("/@alice")
    while not following.count():
        assert time.monotonic() < deadline, "the follow was not accepted in time"
        alice.wait_for_timeout(300)
        alice.goto("/@alice")

    # bob is in her following list; the link there opens his profile page on one.
    following.click()
    people = alice.get_by_role("main").get_by_role("listitem")
    expect(people).to_have_count(1)
    expect(people).to_contain_text(handle)
    with alice.expect_navigation(url=re.compile(r"/accounts/\d+$")):
        people.get_by_role("link", name="bob", exact=True).click()
    main = alice.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("bob")
    expect(main.get_by_role("button", name="Unfollow", exact=True)).to_be_visible()
    expect(main.locator(".profile .counts")).to_contain_text("Followers: 1")

    # bob, in his own browser on two, sees his new follower and writes a public post.
    bob = tabs.open(two.base_url)
    log_in(bob, "bob")
    bob.goto("/@bob")
    expect(bob.locator(".profile .counts")).to_contain_text("Followers: 1")
    text = "Chào cả nhà bên kia, hôm nay trời đẹp quá!"
    bob.goto("/home")
    bob.get_by_label("What's on your mind?").fill(text)
    with bob.expect_navigation(url=re.compile(r"/home#post-\d+-card$")):
        bob.get_by_role("main").get_by_role("button", name="Post", exact=True).click()

    # alice's home feed on one shows it once the delivery arrives.
    reload_until(alice, "/home", text, FEDERATION_SECONDS)
    post = alice.get_by_role("main").get_by_role("article").filter(has_text=text)
    expect(post).to_have_count(1)
    expect(post.locator(".handle").first).to_have_text(handle)
