"""Photos and videos end to end, on a phone (390x844) and a desktop (1280x800): the composer
uploads through its script (progress, preview, alt text, focal point), the post shows the
media in the feed, the lightbox opens and closes, and nothing scrolls sideways.

These drive the real POST /media and GET /media/<id>/state of a `gapo serve`; the files are
made here (Pillow for the photo, PyAV for the video), never downloaded.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.test_accessibility import AUDIT
from tests.helpers.browser import open_new_post, sign_up
from tests.helpers.processes import Server

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
ALT = "Chợ nổi Cái Răng lúc bình minh, thuyền chở đầy dưa hấu"
FILES_LABEL = "Photos and videos (up to 4)"
ALT_LABEL = "Description for people who cannot see it (alt text)"
MIN_TARGET = 44  # px: WCAG 2.5.5's touch target


def make_jpeg(path: Path) -> Path:
    """An 800x600 gradient JPEG: smooth enough for a meaningful blurhash."""
    x = np.linspace(0, 255, 800, dtype=np.uint8)
    y = np.linspace(0, 255, 600, dtype=np.uint8)
    pixels = np.zeros((600, 800, 3), dtype=np.uint8)
    pixels[..., 0] = x[None, :]
    pixels[..., 1] = y[:, None]
    pixels[..., 2] = 120
    Image.fromarray(pixels).save(path, "JPEG", quality=85)
    return path


def make_mp4(path: Path, seconds: float = 1.5, rate: int = 24) -> Path:
    """A small H.264 MP4 (320x240, a moving bar), written with PyAV's own FFmpeg."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.time_base = Fraction(1, rate)
        for n in range(int(seconds * rate)):
            pixels = np.full((240, 320, 3), 40, dtype=np.uint8)
            pixels[:, (n * 10) % 320 : (n * 10) % 320 + 20] = (250, 200, 30)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = n
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow}px of horizontal scrolling"


def big_enough(target: Locator) -> None:
    box = target.bounding_box()
    assert box is not None
    assert box["width"] >= MIN_TARGET and box["height"] >= MIN_TARGET, box


def compose(page: Page, files: list[Path]) -> Locator:
    """Picks `files` in the home page's composer; the attachment list."""
    page.goto("/home")
    main = page.get_by_role("main")
    main.get_by_label(FILES_LABEL).set_input_files([str(f) for f in files])
    return main.locator(".attachment")


@pytest.mark.parametrize("size", list(SIZES))
def test_photo_with_alt_text_and_focal_point_from_composer_to_feed(
    page: Page, tmp_path: Path, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    sign_up(page, "mai")
    attachment = compose(page, [make_jpeg(tmp_path / "cho-noi.jpg")])
    expect(attachment).to_have_count(1)
    # A progress bar while uploading, the picture itself as the preview, then ready.
    expect(attachment.locator("progress")).to_have_count(1)
    expect(attachment.locator(".attachment-preview img")).to_have_count(1)
    expect(attachment.locator(".attachment-status")).to_have_text("Ready")
    # The preview shows (the blob: URL, or the server's preview if a policy refuses blob:).
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0",
        arg=attachment.locator(".attachment-preview img").element_handle(),
    )
    main = page.get_by_role("main")
    # Raw files never post twice: the script took the input's name away.
    assert main.get_by_label(FILES_LABEL).get_attribute("name") is None
    attachment.get_by_label(ALT_LABEL).fill(ALT)
    expect(attachment.locator(".counter")).to_have_text(f"{len(ALT)} / 1500")
    media_id = attachment.locator("input[name=media_ids]").input_value()
    assert media_id.isdigit()
    # A click near the top-left corner is a focal point near (-1, 1).
    preview = attachment.locator(".attachment-preview img")
    preview.click(position={"x": 2, "y": 2})
    focus = attachment.locator(f"input[name=focus_{media_id}]").input_value()
    x, y = (float(v) for v in focus.split(","))
    assert x < -0.8 and y > 0.8, focus
    expect(main.get_by_label("Mark media as sensitive")).to_be_visible()
    big_enough(attachment.get_by_role("button", name=re.compile("Remove")))
    no_sideways_scroll(page)
    # The script's fields are labelled and its buttons named, as on every page.
    assert not page.evaluate(AUDIT)

    main.get_by_role("button", name="Post", exact=True).click()
    open_new_post(page)
    post_url = page.url

    for where in (post_url, "/home", "/public/local"):
        page.goto(where)
        image = page.get_by_role("main").locator(".media-grid img").first
        expect(image).to_have_attribute("alt", ALT)
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        # The focal point came through: the crop is anchored left and top.
        position = image.evaluate("img => getComputedStyle(img).objectPosition")
        x_percent, y_percent = (float(v.rstrip("%")) for v in position.split())
        assert x_percent < 10 and y_percent < 10, position
        no_sideways_scroll(page)
        assert not page.evaluate(AUDIT), where

    # The ALT badge shows the description; it is a big enough target.
    badge = page.get_by_role("main").locator(".media-alt > summary").first
    big_enough(badge)
    badge.click()
    expect(page.get_by_role("main").locator(".media-alt p").first).to_have_text(ALT)

    # The lightbox: the full file, its alt text, Escape closes it and focus comes back.
    link = page.get_by_role("main").locator("a[data-lightbox]").first
    link.click()
    dialog = page.locator("dialog.lightbox")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-image]")).to_have_attribute("alt", ALT)
    expect(dialog.locator("[data-alt]")).to_have_text(ALT)
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    big_enough(dialog.get_by_role("button", name="Close"))
    expect(dialog.get_by_role("button", name="Next photo")).to_be_hidden()
    no_sideways_scroll(page)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(link).to_be_focused()


@pytest.mark.parametrize("size", list(SIZES))
def test_video_is_processing_then_plays_in_the_feed(page: Page, tmp_path: Path, size: str) -> None:
    page.set_viewport_size(SIZES[size])
    sign_up(page, "khoa")
    attachment = compose(page, [make_mp4(tmp_path / "clip.mp4")])
    main = page.get_by_role("main")
    post_button = main.get_by_role("button", name="Post", exact=True)
    # Transcoding is a job: the server answers "processing" and the form waits for it.
    expect(attachment.locator(".attachment-status")).to_have_text("Processing…")
    expect(post_button).to_be_disabled()
    expect(attachment.locator(".attachment-status")).to_have_text("Ready", timeout=60_000)
    expect(post_button).to_be_enabled()
    # The poster frame became the preview.
    expect(attachment.locator(".attachment-preview img")).to_have_attribute(
        "src", re.compile(r"/media/")
    )
    main.get_by_label("What's on your mind?").fill("Một đoạn phim ngắn")
    post_button.click()
    open_new_post(page)

    page.goto("/home")
    video = page.get_by_role("main").locator(".media-grid video").first
    expect(video).to_have_attribute("controls", "")
    expect(video).to_have_attribute("preload", "metadata")
    assert video.get_attribute("autoplay") is None
    assert re.search(r"/media/", video.get_attribute("poster") or "")
    page.wait_for_function(
        "v => v.readyState > 0 && v.duration > 0", arg=video.element_handle(), timeout=20_000
    )
    duration = video.evaluate("v => v.duration")
    assert 0.5 < duration < 5, duration
    no_sideways_scroll(page)


def test_sensitive_media_stay_covered_until_asked(page: Page, tmp_path: Path) -> None:
    page.set_viewport_size(SIZES["phone"])
    sign_up(page, "vy")
    attachment = compose(page, [make_jpeg(tmp_path / "a.jpg")])
    expect(attachment.locator(".attachment-status")).to_have_text("Ready")
    main = page.get_by_role("main")
    main.get_by_label("Mark media as sensitive").check()
    main.get_by_role("button", name="Post", exact=True).click()
    open_new_post(page)
    card = page.get_by_role("main").locator(".focus")
    image = card.locator(".media-grid img")
    expect(image).to_be_hidden()
    cover = card.locator(".media-sensitive > summary")
    expect(cover).to_contain_text("Sensitive content — show")
    big_enough(cover)
    # The blurhash is painted on the cover: the canvas has pixels that are not all blank.
    canvas = cover.locator("canvas[data-blurhash]")
    painted = canvas.evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
        ".some((v, i) => i % 4 !== 3 && v > 0)"
    )
    assert painted
    cover.click()
    expect(image).to_be_visible()
    no_sideways_scroll(page)


@pytest.mark.parametrize("size", list(SIZES))
def test_two_photos_side_by_side_and_the_lightbox_steps_through_them(
    page: Page, tmp_path: Path, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    sign_up(page, "thu")
    attachments = compose(page, [make_jpeg(tmp_path / "1.jpg"), make_jpeg(tmp_path / "2.jpg")])
    expect(attachments.locator(".attachment-status")).to_have_text(["Ready", "Ready"])
    attachments.nth(0).get_by_label(ALT_LABEL).fill("ảnh một")
    attachments.nth(1).get_by_label(ALT_LABEL).fill("ảnh hai")
    page.get_by_role("main").get_by_role("button", name="Post", exact=True).click()
    open_new_post(page)
    grid = page.get_by_role("main").locator(".focus .media-grid")
    expect(grid).to_have_class(re.compile(r"\bmedia-count-2\b"))
    tiles = grid.locator(".media-item")
    first, second = tiles.nth(0).bounding_box(), tiles.nth(1).bounding_box()
    assert first and second
    # Side by side, the same height, both inside the window.
    assert abs(first["y"] - second["y"]) < 1 and abs(first["height"] - second["height"]) < 1
    assert second["x"] > first["x"] + first["width"] - 1
    assert second["x"] + second["width"] <= SIZES[size]["width"]
    expect(grid.locator("img").nth(0)).to_have_attribute("alt", "ảnh một")
    expect(grid.locator("img").nth(1)).to_have_attribute("alt", "ảnh hai")

    grid.locator("a[data-lightbox]").nth(0).click()
    dialog = page.locator("dialog.lightbox")
    expect(dialog.locator("[data-counter]")).to_have_text("1 / 2")
    expect(dialog.locator("[data-alt]")).to_have_text("ảnh một")
    dialog.get_by_role("button", name="Next photo").click()
    expect(dialog.locator("[data-counter]")).to_have_text("2 / 2")
    expect(dialog.locator("[data-image]")).to_have_attribute("alt", "ảnh hai")
    page.keyboard.press("ArrowRight")
    expect(dialog.locator("[data-counter]")).to_have_text("1 / 2")
    big_enough(dialog.get_by_role("button", name="Previous photo"))
    # The page behind is inert: Tab stays inside the dialog.
    for _ in range(4):
        page.keyboard.press("Tab")
        assert dialog.evaluate("d => d.contains(document.activeElement)")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(grid.locator("a[data-lightbox]").nth(0)).to_be_focused()


def test_without_javascript_files_post_with_the_form_and_alt_text_comes_on_the_edit_page(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    context = browser.new_context(
        base_url=server.base_url, locale="en-US", java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.set_viewport_size(SIZES["phone"])
        sign_up(page, "nojs")
        page.goto("/home")
        main = page.get_by_role("main")
        # Nothing hides the sensitive box without the script: it applies to the files.
        expect(main.get_by_label("Mark media as sensitive")).to_be_visible()
        main.get_by_label(FILES_LABEL).set_input_files(str(make_jpeg(tmp_path / "a.jpg")))
        main.get_by_role("button", name="Post", exact=True).click()
        open_new_post(page)
        post_url = page.url
        image = page.locator(".focus .media-grid img")
        expect(image).to_have_attribute("alt", "Image without a description")
        # The link opens the file itself.
        href = page.locator(".focus a[data-lightbox]").get_attribute("href") or ""
        assert "/media/" in href

        page.goto(f"{post_url}/edit")
        main = page.get_by_role("main")
        main.get_by_label("Description of attachment 1 (alt text)").fill(ALT)
        main.get_by_role("button", name="Save").click()
        page.wait_for_url(re.compile(r"/p/\d+$"))
        expect(page.locator(".focus .media-grid img")).to_have_attribute("alt", ALT)
        # The ALT badge opens by itself, as a <details>.
        page.locator(".focus .media-alt > summary").click()
        expect(page.locator(".focus .media-alt p")).to_have_text(ALT)
        no_sideways_scroll(page)

        page.goto(f"{post_url}/edit")
        # A post of one photo and no text needs words before its photo can go (as on
        # Mastodon, a post is never left empty).
        page.get_by_role("main").get_by_label("Text", exact=True).fill("Words instead")
        page.get_by_role("main").get_by_label("Remove attachment 1").check()
        page.get_by_role("main").get_by_role("button", name="Save").click()
        page.wait_for_url(re.compile(r"/p/\d+$"))
        expect(page.locator(".focus .media-grid")).to_have_count(0)
    finally:
        context.close()
