"""A person's data in a real browser: download the archive from settings, then delete the
account with the password; signed out, the profile answers 410 and the name stays taken."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.helpers.browser import sign_up


def test_export_download_then_delete_from_settings(page: Page, tmp_path: Path) -> None:
    """The archive downloads with the post in it; a wrong password deletes nothing; the
    right one signs out and the profile is gone (410), and a new sign-up with the name fails."""
    sign_up(page, "mai")
    page.locator("#compose-text").fill("Phở bò buổi sáng")
    page.get_by_role("main").locator("form.compose").get_by_role(
        "button", name="Post", exact=True
    ).click()
    page.wait_for_url(re.compile(r"#post-\d+-card$"))

    page.goto("/settings/data")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my archive").click()
    download = download_info.value
    assert download.suggested_filename == "mai-archive.zip"
    saved = tmp_path / "archive.zip"
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        outbox = json.loads(archive.read("outbox.json"))
        assert "following_accounts.csv" in archive.namelist()
    assert [item["object"]["content"] for item in outbox["orderedItems"]] == [
        "<p>Phở bò buổi sáng</p>"
    ]

    delete_form = page.locator("form", has=page.get_by_role("button", name="Delete my account"))
    delete_form.get_by_label("Current password").fill("not my password at all")
    delete_form.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_contain_text("The current password is not right")

    delete_form = page.locator("form", has=page.get_by_role("button", name="Delete my account"))
    delete_form.get_by_label("Current password").fill("a good long passphrase")
    delete_form.get_by_role("button", name="Delete my account").click()
    page.wait_for_url(re.compile(r"/settings/deleted$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account is deleted")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)

    response = page.goto("/@mai")
    assert response is not None and response.status == 410
    page.goto("/signup")
    page.get_by_label("Username", exact=True).fill("mai")
    page.get_by_label("Email").fill("mai.again@example.org")
    page.get_by_label("Password").fill("a good long passphrase")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("alert")).to_contain_text("That username is taken")
