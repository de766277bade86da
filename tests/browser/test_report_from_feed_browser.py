"""Reporting from the home feed on a phone: another's card has a Report link (one's own has
none), it opens the report form with the post included, and the report is sent."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.helpers.browser import Tabs, sign_up
from tests.helpers.processes import Server

PHONE = {"width": 390, "height": 844}


def test_report_a_post_from_the_feed_on_a_phone(tabs: Tabs, server: Server) -> None:
    sam = tabs.open(server.base_url, viewport=PHONE, is_mobile=True, has_touch=True)
    sign_up(sam, "sam")
    sam.locator("#compose-text").fill("Buy my pills")
    sam.get_by_role("main").locator("form.compose").get_by_role(
        "button", name="Post", exact=True
    ).click()
    sam.wait_for_url(re.compile(r"#post-\d+-card$"))
    own = sam.locator("article.post", has_text="Buy my pills")
    expect(own.get_by_role("button", name=re.compile("Like"))).to_be_visible()
    expect(own.get_by_role("link", name=re.compile("^Report"))).to_have_count(0)

    rea = tabs.open(server.base_url, viewport=PHONE, is_mobile=True, has_touch=True)
    sign_up(rea, "rea")
    rea.goto("/@sam")
    rea.get_by_role("main").get_by_role("button", name="Follow", exact=True).click()
    expect(rea.get_by_role("main").get_by_role("button", name="Unfollow")).to_be_visible()
    rea.goto("/home")
    card = rea.locator("article.post", has_text="Buy my pills")
    report = card.get_by_role("link", name="Report post by @sam")
    expect(report).to_be_visible()
    box = report.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    report.click()
    expect(rea.get_by_text("The post you came from is included.")).to_be_visible()
    rea.get_by_label("What is wrong (optional)").fill("Spam from the feed")
    rea.get_by_role("button", name="Send the report").click()
    expect(rea.locator("main").get_by_role("status")).to_contain_text("Thank you")
