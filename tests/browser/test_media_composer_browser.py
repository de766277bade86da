"""The composer's script against a scripted /media: limits, errors, processing and removal.

The answers of POST /media and GET /media/<id>/state are given here (Playwright routes,
shaped as the web contract says) so that each case is certain: a refusal with a
translated error, a video that stays "processing" for a while, a fifth file. The real
endpoint is driven end to end in test_media_browser.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Route, expect

from tests.browser.test_media_browser import FILES_LABEL, compose, make_jpeg
from tests.helpers.browser import sign_up

REFUSAL = "Tệp này không phải là ảnh hay video mà Gapo đọc được."


class FakeMedia:
    """POST /media and GET /media/<id>/state as the contract answers them."""

    def __init__(self, page: Page, processing_polls: int = 0) -> None:
        self.next_id = 100
        self.uploads: list[dict[str, str]] = []
        self.polls = 0
        self.processing_polls = processing_polls
        self.refuse_names: set[str] = set()
        page.route(re.compile(r"/media$"), self.upload)
        page.route(re.compile(r"/media/\d+/state$"), self.state)

    def answer(self, media_id: str, state: str) -> dict[str, Any]:
        return {
            "id": media_id,
            "kind": "image" if state == "ready" else "video",
            "state": state,
            "url": f"/static/style.css?{media_id}" if state == "ready" else None,
            "preview_url": None,
            "width": 800,
            "height": 600,
            "blurhash": None,
            "description": "",
            "error": None,
        }

    def upload(self, route: Route) -> None:
        request = route.request
        body = request.post_data_buffer or b""
        self.uploads.append({"csrf": request.headers.get("x-csrf-token", "")})
        if any(name.encode() in body for name in self.refuse_names):
            route.fulfill(status=422, json={"error": REFUSAL})
            return
        self.next_id += 1
        state = "processing" if self.processing_polls else "ready"
        route.fulfill(
            status=202 if state == "processing" else 200,
            json=self.answer(str(self.next_id), state),
        )

    def state(self, route: Route) -> None:
        self.polls += 1
        media_id = route.request.url.rsplit("/", 2)[1]
        state = "processing" if self.polls < self.processing_polls else "ready"
        route.fulfill(status=200, body=json.dumps(self.answer(media_id, state)))


def test_at_most_four_files_with_a_message_and_ids_in_order(page: Page, tmp_path: Path) -> None:
    fake = FakeMedia(page)
    sign_up(page, "an")
    files = [make_jpeg(tmp_path / f"{n}.jpg") for n in range(5)]
    attachments = compose(page, files)
    main = page.get_by_role("main")
    expect(attachments).to_have_count(4)
    expect(main.locator("[data-media-error]")).to_have_text(
        "You can attach up to 4 files; the others were left out."
    )
    expect(main.locator("input[name=media_ids]")).to_have_count(4)
    ids = [i.input_value() for i in main.locator("input[name=media_ids]").all()]
    assert ids == ["101", "102", "103", "104"]
    # Each upload carried the page's CSRF token in the header.
    token = main.locator("input[name=csrf_token]").input_value()
    assert [u["csrf"] for u in fake.uploads] == [token] * 4
    # The alt text fields are named after the ids, so they post with the form.
    names = [a.get_attribute("name") for a in attachments.locator("textarea").all()]
    assert names == [f"description_{i}" for i in ids]
    expect(main.get_by_label(FILES_LABEL)).to_be_disabled()
    # Removing one frees a place; the form keeps the others' ids in order.
    attachments.nth(1).get_by_role("button", name="Remove attachment 2").click()
    expect(attachments).to_have_count(3)
    expect(main.get_by_label(FILES_LABEL)).to_be_enabled()
    ids = [i.input_value() for i in main.locator("input[name=media_ids]").all()]
    assert ids == ["101", "103", "104"]


def test_a_refused_file_shows_the_servers_error_and_is_not_attached(
    page: Page, tmp_path: Path
) -> None:
    fake = FakeMedia(page)
    fake.refuse_names = {"refused.jpg"}
    sign_up(page, "bao")
    attachments = compose(page, [make_jpeg(tmp_path / "refused.jpg")])
    expect(attachments.get_by_role("alert")).to_have_text(REFUSAL)
    main = page.get_by_role("main")
    expect(main.locator("input[name=media_ids]")).to_have_count(0)
    expect(main.get_by_role("button", name="Post", exact=True)).to_be_enabled()


def test_processing_keeps_the_post_button_disabled_until_ready(page: Page, tmp_path: Path) -> None:
    fake = FakeMedia(page, processing_polls=2)
    sign_up(page, "cuc")
    attachments = compose(page, [make_jpeg(tmp_path / "clip.jpg")])
    main = page.get_by_role("main")
    post_button = main.get_by_role("button", name="Post", exact=True)
    expect(attachments.locator(".attachment-status")).to_have_text("Processing…")
    expect(post_button).to_be_disabled()
    # An indeterminate bar: the server gives no fraction of a transcode.
    assert attachments.locator("progress").get_attribute("value") is None
    expect(attachments.locator(".attachment-status")).to_have_text("Ready", timeout=15_000)
    expect(post_button).to_be_enabled()
    assert fake.polls >= 2
