"""Attachments on post cards (templates/_media.html), the composer's media fields and the
edit page's: rendered from typed views, and once through a real page from `media` rows."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from quart import Quart, render_template, render_template_string

from instance import i18n
from instance.accounts.views import AccountView
from instance.db import media as media_q
from instance.media.views import MediaView
from instance.posts.views import PostView
from tests.helpers.social import gapo, page, user, write

AUTHOR = AccountView(
    id=1,
    username="lan",
    domain=None,
    local=True,
    display_name="Lan",
    avatar_url=None,
    ap_id=None,
    url=None,
)
# blurha.sh's own example hash (4x3 components).
BLURHASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"


def photo(media_id: int = 11, **changes: Any) -> MediaView:
    view = MediaView(
        id=media_id,
        kind="image",
        state="ready",
        media_type="image/webp",
        url=f"/media/file{media_id}.webp",
        preview_url=f"/media/thumb{media_id}.webp",
        remote_url=None,
        width=1200,
        height=800,
        duration=None,
        blurhash=BLURHASH,
        focus_x=0.5,
        focus_y=-0.25,
        description=f"Chợ nổi Cái Răng lúc bình minh {media_id}",
    )
    return replace(view, **changes)


def video(media_id: int = 21, **changes: Any) -> MediaView:
    view = photo(
        media_id,
        kind="video",
        media_type="video/mp4",
        url=f"/media/file{media_id}.mp4",
        preview_url=f"/media/poster{media_id}.webp",
        duration=2.0,
        description="",
    )
    return replace(view, **changes)


def post(*media: MediaView, **changes: Any) -> PostView:
    view = PostView(
        id=7,
        author=AUTHOR,
        local=True,
        ap_id=None,
        url=None,
        in_reply_to_id=None,
        in_reply_to_ap_id=None,
        content_html="<p>Ảnh hôm nay</p>",
        summary="",
        sensitive=False,
        visibility="public",
        language="vi",
        created_at=1_700_000_000,
        updated_at=None,
        replies_count=0,
        likes_count=0,
        shares_count=0,
        media=tuple(media),
    )
    return replace(view, **changes)


async def card(app: Quart, view: PostView) -> str:
    async with app.test_request_context("/public/local"):
        return await render_template_string('{% include "_post.html" %}', post=view)


class Tags(HTMLParser):
    """Every start tag with its attributes, to check attributes without regex on HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str, name: str) -> list[dict[str, str | None]]:
    parser = Tags()
    parser.feed(html)
    return [attrs for tag, attrs in parser.tags if tag == name]


def all_attributes(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def grid_class(html: str) -> str:
    match = re.search(r'class="media-grid (media-count-\d)"', html)
    assert match, html
    return match.group(1)


async def test_grid_layout_per_count(app: Quart) -> None:
    for count in (1, 2, 3, 4):
        html = await card(app, post(*[photo(10 + n) for n in range(count)]))
        assert grid_class(html) == f"media-count-{count}"
        assert len(tags(html, "figure")) == count
    # A remote post may carry more: the four-layout grows rows.
    html = await card(app, post(*[photo(10 + n) for n in range(6)]))
    assert grid_class(html) == "media-count-4"
    assert "data-media" not in await card(app, post())


async def test_image_has_alt_size_lazy_loading_and_links_to_the_full_file(app: Quart) -> None:
    html = await card(app, post(photo(11)))
    (img,) = tags(html, "img")
    assert img["src"] == "/media/thumb11.webp"
    assert img["alt"] == "Chợ nổi Cái Răng lúc bình minh 11"
    assert (img["width"], img["height"]) == ("1200", "800")
    assert img["loading"] == "lazy" and img["decoding"] == "async"
    links = [a for a in tags(html, "a") if "data-lightbox" in a]
    assert [a["href"] for a in links] == ["/media/file11.webp"]
    # The alt text is also behind an ALT badge, and the focal point and blurhash are data.
    assert '<details class="media-alt">' in html and "Chợ nổi Cái Răng lúc bình minh 11</p>" in html
    (figure,) = tags(html, "figure")
    assert figure["data-focus"] == "0.5,-0.25"
    assert figure["data-size"] == "1200x800"
    (canvas,) = tags(html, "canvas")
    assert canvas["data-blurhash"] == BLURHASH and canvas["aria-hidden"] == "true"


async def test_image_without_description_still_has_a_text_alternative(app: Quart) -> None:
    html = await card(app, post(photo(11, description="", blurhash=None)))
    (img,) = tags(html, "img")
    assert img["alt"] == "Image without a description"
    assert "media-alt" not in html and "<canvas" not in html


async def test_blurhash_average_colour_becomes_a_tone_class(app: Quart) -> None:
    # Characters 2-6 in base 83 are the DC term, the average colour as 0xRRGGBB.
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
    value = 0
    for char in BLURHASH[2:6]:
        value = value * 83 + digits.index(char)
    r, g, b = value >> 16, (value >> 8) & 255, value & 255
    expected = f"tone-{r * 3 // 256}{g * 3 // 256}{b * 3 // 256}"
    (figure,) = tags(await card(app, post(photo(11))), "figure")
    assert expected in (figure["class"] or "").split()
    # A malformed hash gives no class rather than a broken page.
    (figure,) = tags(await card(app, post(photo(11, blurhash="!!!!!!!!"))), "figure")
    assert not any(c.startswith("tone-") for c in (figure["class"] or "").split())


async def test_video_has_controls_metadata_preload_and_poster_but_no_autoplay(app: Quart) -> None:
    html = await card(app, post(video(21)))
    (element,) = tags(html, "video")
    assert "controls" in element and element["preload"] == "metadata"
    assert element["poster"] == "/media/poster21.webp"
    assert element["src"] == "/media/file21.mp4"
    assert "playsinline" in element
    assert "autoplay" not in element and "muted" not in element and "loop" not in element


async def test_gifv_loops_muted_without_autoplay_and_audio_has_a_player(app: Quart) -> None:
    gif = video(31, kind="gifv", media_type="video/mp4")
    sound = video(41, kind="audio", media_type="audio/mpeg", url="/media/file41.mp3")
    html = await card(app, post(gif, sound))
    (element,) = tags(html, "video")
    assert {"loop", "muted", "playsinline", "data-gifv"} <= set(element)
    assert element["preload"] == "metadata" and "autoplay" not in element
    (audio,) = tags(html, "audio")
    assert "controls" in audio and audio["preload"] == "metadata"
    assert audio["src"] == "/media/file41.mp3"
    # Audio is no tile of the grid.
    assert grid_class(html) == "media-count-1"


async def test_processing_shows_a_placeholder(app: Quart) -> None:
    pending = video(51, state="processing", url=None, preview_url=None)
    html = await card(app, post(pending))
    assert 'data-media-processing="51"' in html and "Processing…" in html
    assert "<video" not in html


async def test_sensitive_media_are_folded_behind_a_cover(app: Quart) -> None:
    for changes in ({"sensitive": True}, {"summary": "Có thể gây sốc"}):
        html = await card(app, post(photo(11), **changes))
        match = re.search(r"<details class=\"media-sensitive\"(?P<attrs>[^>]*)>", html)
        assert match and "open" not in match.group("attrs"), html
        cover = html[match.end() : html.index("</summary>", match.end())]
        assert "Sensitive content — show" in cover and f'data-blurhash="{BLURHASH}"' in cover
        # The grid is inside the folded details.
        assert html.index("media-grid") > match.start()
        assert html.index("media-grid") < html.index("</details>", html.index("media-grid"))
    # A content warning also folds the media with the text.
    html = await card(app, post(photo(11), summary="Có thể gây sốc"))
    cw = html[html.index('<details class="cw">') :]
    assert cw.index("media-grid") < cw.rindex("</details>")
    assert "media-sensitive" not in await card(app, post(photo(11)))


async def test_unknown_kinds_and_failed_files_are_links_or_notes(app: Quart) -> None:
    remote = photo(
        61,
        kind="unknown",
        state="remote",
        url=None,
        preview_url=None,
        remote_url="https://files.example/a.glb",
        description="mô hình 3D",
    )
    failed = video(62, state="failed", url=None, preview_url=None)
    html = await card(app, post(remote, failed))
    (link,) = [a for a in tags(html, "a") if a.get("href") == "https://files.example/a.glb"]
    assert link["rel"] == "noopener nofollow ugc"
    assert "mô hình 3D</a>" in html
    assert "This file could not be processed." in html
    assert "<img" not in html and "<video" not in html and "media-grid" not in html


async def test_no_inline_styles_and_nothing_embedded_from_another_origin(app: Quart) -> None:
    remote = photo(71, remote_url="https://files.example/x.jpg", url="/media/proxy/ab")
    views = [
        post(photo(11), video(21), remote, video(31, kind="gifv")),
        post(photo(11), sensitive=True, summary="CW"),
        post(video(51, state="processing", url=None, preview_url=None)),
    ]
    for view in views:
        html = await card(app, view)
        for tag, attrs in all_attributes(html):
            assert "style" not in attrs, (tag, attrs)
            assert not any(name.startswith("on") for name in attrs), (tag, attrs)
            for name in ("src", "poster", "srcset"):
                value = attrs.get(name)
                assert value is None or value.startswith("/"), (tag, name, value)
        assert "<script" not in html


async def test_compose_form_posts_files_without_javascript(app: Quart) -> None:
    alice = await user(app, "alice")
    html = await page(alice, "/home")
    form = html[html.index('<form method="post" action="/posts"') :]
    form = form[: form.index("</form>")]
    opening = form[: form.index(">")]
    assert 'enctype="multipart/form-data"' in opening
    # The CSRF token stays the first field (the server reads it before any file).
    first = re.search(r"<(input|textarea|select)\b[^>]*>", form)
    assert first and 'name="csrf_token"' in first.group(0)
    (files,) = [i for i in tags(form, "input") if i.get("type") == "file"]
    assert files["name"] == "files" and "multiple" in files
    assert {"image/jpeg", "image/heic", "video/mp4", "video/quicktime"} <= set(
        (files["accept"] or "").split(",")
    )
    (text,) = tags(form, "textarea")
    assert "required" not in text
    (sensitive,) = [i for i in tags(form, "input") if i.get("name") == "sensitive"]
    assert sensitive["type"] == "checkbox" and sensitive["value"] == "1"
    assert "Mark media as sensitive" in form
    # The script's messages come from the page, so they are translated with it.
    assert 'data-msg-processing="Processing…"' in form


async def test_edit_page_has_alt_text_and_remove_per_attachment(app: Quart) -> None:
    view = post(photo(11), video(21, description="gió"))
    async with app.test_request_context("/p/7/edit"):
        html = await render_template(
            "post_edit.html",
            post={"id": 7, "summary": "", "content_source": "Ảnh hôm nay"},
            media=view.media,
        )
    for m in view.media:
        (area,) = [t for t in tags(html, "textarea") if t.get("name") == f"description_{m.id}"]
        assert area["maxlength"] == "1500"
        (remove,) = [i for i in tags(html, "input") if i.get("name") == f"remove_{m.id}"]
        assert remove["type"] == "checkbox" and remove["value"] == "1"
    assert "gió</textarea>" in html
    thumbs = [i["src"] for i in tags(html, "img") if "src" in i]
    assert thumbs == ["/media/thumb11.webp", "/media/poster21.webp"]
    assert not any("required" in t for t in tags(html, "textarea"))


async def test_a_real_post_page_shows_its_media_rows(app: Quart) -> None:
    alice = await user(app, "alice")
    post_id = await write(alice, "hai tấm ảnh")
    db = gapo(app).db
    account = await db.fetch_value("SELECT account_id FROM posts WHERE id = :id", {"id": post_id})
    async with db.transaction() as tx:
        for position, media_id in enumerate((901, 902)):
            await media_q.insert(
                tx,
                {
                    "id": media_id,
                    "account_id": account,
                    "post_id": post_id,
                    "position": position,
                    "kind": "image",
                    "state": "ready",
                    "media_type": "image/webp",
                    "file_key": f"k{media_id}.webp",
                    "thumb_key": f"t{media_id}.webp",
                    "width": 640,
                    "height": 480,
                    "description": f"ảnh {media_id}",
                    "created_at": 1,
                },
            )
    for path in (f"/p/{post_id}", "/public/local", "/@alice"):
        html = await page(alice, path)
        assert grid_class(html) == "media-count-2", path
        srcs = [urlsplit(i["src"] or "") for i in tags(html, "img") if "src" in i]
        # Paths on whichever origin the page was read (the base URL or the onion service).
        assert {(u.scheme, u.netloc) for u in srcs} == {("", "")}, path
        assert [u.path for u in srcs] == ["/media/t901.webp", "/media/t902.webp"], path
        assert 'alt="ảnh 901"' in html and 'alt="ảnh 902"' in html


async def test_media_strings_are_translated(app: Quart) -> None:
    view = post(
        photo(11), video(51, state="processing", url=None, preview_url=None), sensitive=True
    )
    async with app.test_request_context("/public/local", headers={"Accept-Language": "vi"}):
        i18n.current_locale.set("vi")
        html = await render_template_string('{% include "_post.html" %}', post=view)
        compose = await render_template_string('{% include "_compose.html" %}')
    assert "Nội dung nhạy cảm — bấm để xem" in html and "Đang xử lý…" in html
    assert "Ảnh và video (tối đa 4)" in compose and "Đánh dấu ảnh/video là nhạy cảm" in compose
    assert 'data-msg-uploading="Đang tải lên…"' in compose
