"""Incoming attachments: every shape real servers send becomes media rows or stays a link.

Run over the fixtures (Mastodon, GoToSocial, Pleroma forks, Peertube, Lemmy, WordPress,
BookWyrm, Owncast, Misskey), then a hostile post with 15,000 attachments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from activitypub.vocab import NOTE_TYPES, parse_note, types_of
from instance.federation.from_ap.notes import content_of

FIXTURES = Path(__file__).parent / "fixtures"


def load(path: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / path).read_text(encoding="utf-8"))
    obj = doc.get("object")
    return obj if isinstance(obj, dict) and "attachment" in obj else doc


def note_documents() -> list[Path]:
    """Every fixture that is a post (or wraps one) with an `attachment`."""
    found = []
    for path in sorted(FIXTURES.glob("*/*.json")):
        try:
            doc = load(str(path.relative_to(FIXTURES)))
        except (ValueError, UnicodeDecodeError):
            continue
        types = types_of(doc)
        if any(t in NOTE_TYPES for t in types) and (doc.get("attachment") or "Video" in types):
            found.append(path)
    return found


@pytest.mark.parametrize("path", note_documents(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_attachment_parses_to_http_urls(path: Path) -> None:
    """No fixture raises; every stored attachment has an http(s) URL and a shown kind, and
    at most four are stored."""
    note = parse_note(load(str(path.relative_to(FIXTURES))))
    content = content_of(note)
    assert content.attachments is not None
    assert len(content.attachments) <= 4
    for item in content.attachments:
        assert item.remote_url and item.remote_url.startswith(("https://", "http://"))
        assert item.kind in ("image", "video")
        assert item.media_id is None
        if item.remote_preview_url:
            assert item.remote_preview_url.startswith(("https://", "http://"))


def test_mastodon_document_keeps_every_field() -> None:
    note = parse_note(load("mastodon/note-floss-social.json"))
    (item,) = content_of(note).attachments or ()
    assert item.kind == "image" and item.media_type == "image/jpeg"
    assert item.remote_url and item.remote_url.endswith("c8d906a2f2ab2334.jpg")
    assert item.description.startswith("The KDE dragons Katie and Konqi")
    assert item.blurhash == "USQv:h-W-qI-^,W;RPs=^-R%NZxbo#sDobSc"
    assert (item.width, item.height) == (1500, 1095)
    assert (item.focus_x, item.focus_y) == (0.0, 0.0)
    # Stored as media: the content has no link to it any more.
    assert "c8d906a2f2ab2334.jpg" not in content_of(note).content_html


def test_gotosocial_image_alt_in_summary_and_focal_point() -> None:
    note = parse_note(load("gotosocial/note-tags-emoji.json"))
    (item,) = content_of(note).attachments or ()
    assert item.kind == "image"
    assert item.description.startswith("Black and white image of some 50's style text")
    assert (item.focus_x, item.focus_y) == (-0.5, 0.5)
    assert item.blurhash == "LIIE|gRj00WB-;j[t7j[4nWBj[Rj"


def test_mastodon_video_document() -> None:
    note = parse_note(load("mastodon/note-hashtag-contentmap.json"))
    (item,) = content_of(note).attachments or ()
    assert item.kind == "video" and item.media_type == "video/mp4"
    assert item.description == ""


def test_peertube_video_is_its_own_attachment() -> None:
    """The mp4 renditions sit in the HLS playlist's `tag`; the 360p one is picked (1080p is
    245 MB, past the proxy's cap), with the widest `icon` as its poster."""
    note = parse_note(load("peertube/object-video-tilvids.json"))
    (item,) = content_of(note).attachments or ()
    assert item.kind == "video" and item.media_type == "video/mp4"
    assert item.remote_url and item.remote_url.endswith("-360-fragmented.mp4")
    assert (item.width, item.height) == (640, 360)
    assert item.remote_preview_url and "/previews/" in item.remote_preview_url
    assert item.duration == 1145.0


def test_rebased_two_images_with_empty_alt() -> None:
    note = parse_note(load("rebased/note-gleasonator.json"))
    items = content_of(note).attachments or ()
    assert [i.kind for i in items] == ["image", "image"]
    assert all(i.description == "" and i.blurhash and i.width == 966 for i in items)


def test_lemmy_link_stays_a_link_and_image_is_stored() -> None:
    note = parse_note(load("lemmy/object-page-image-and-link.json"))
    content = content_of(note)
    assert [i.kind for i in content.attachments or ()] == ["image"]
    assert "https://example.com/some-article" in content.content_html


def test_owncast_image_without_media_type_goes_by_its_type() -> None:
    note = parse_note(load("owncast/note-with-attachment.json"))
    (item,) = content_of(note).attachments or ()
    assert item.kind == "image"


def test_wordpress_article_images_are_stored_and_beyond_the_cap_stay_links() -> None:
    note = parse_note(load("wordpress/object-article.json"))
    content = content_of(note)
    assert len(content.attachments or ()) == 4
    assert "Splash-Art2-3.png" not in content.content_html
    # With a cap of 2, the third and fourth stay links in the content.
    capped = content_of(note, max_attachments=2)
    assert len(capped.attachments or ()) == 2
    assert "small3-1.png" in capped.content_html and "Splash-Art.jpg" not in capped.content_html


def test_the_cap_follows_the_setting() -> None:
    note = parse_note(load("rebased/note-gleasonator.json"))
    assert len(content_of(note, max_attachments=1).attachments or ()) == 1
    assert content_of(note, max_attachments=0).attachments == ()


def test_misskey_empty_attachment_list() -> None:
    note = parse_note(load("misskey/note-quote.json"))
    assert content_of(note).attachments == ()


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        (
            {"type": "Document", "mediaType": "image/svg+xml", "url": "https://x.example/a.svg"},
            None,
        ),
        ({"type": "Document", "mediaType": "text/html", "url": "https://x.example/a"}, None),
        ({"type": "Audio", "mediaType": "audio/mpeg", "url": "https://x.example/a.mp3"}, None),
        ({"type": "Document", "url": "https://x.example/a.webm"}, "video"),
        ({"type": "Document", "url": "https://x.example/a.PNG?x=1"}, "image"),
        ({"type": "Document", "url": "https://x.example/no-extension"}, None),
        ({"type": "Image", "url": "javascript:alert(1)"}, None),
        ({"type": "Image", "url": "data:image/png;base64,AAAA"}, None),
        ({"type": "Image", "url": {"type": "Link", "href": "https://x.example/l.jpg"}}, "image"),
        (
            {
                "type": "Video",
                "url": [
                    {"type": "Link", "mediaType": "text/html", "href": "https://x.example/watch"},
                    {"type": "Link", "mediaType": "video/mp4", "href": "https://x.example/v.mp4"},
                ],
            },
            "video",
        ),
        ("https://x.example/bare.jpg", "image"),
        ("ftp://x.example/bare.jpg", None),
        ({"type": "Image", "url": "https://x.example/f.jpg", "focalPoint": ["a", 2]}, "image"),
        ({"type": "Image", "url": "https://x.example/f.jpg", "focalPoint": [9, -9]}, "image"),
        ({"type": "Image", "url": "https://x.example/f.jpg", "width": 10**9, "height": 5}, "image"),
    ],
)
def test_entry_shapes(entry: Any, kind: str | None) -> None:
    doc = {"id": "https://x.example/n/1", "type": "Note", "content": "", "attachment": [entry]}
    items = content_of(parse_note(doc)).attachments or ()
    assert [i.kind for i in items] == ([kind] if kind else [])
    for item in items:
        assert -1.0 <= item.focus_x <= 1.0 and -1.0 <= item.focus_y <= 1.0
        assert item.width is None or item.width <= 16384


def test_a_sensitive_file_makes_the_post_sensitive() -> None:
    """Misskey marks sensitive files one by one (`sensitive` on the Document)."""
    doc = {
        "id": "https://x.example/n/1",
        "type": "Note",
        "content": "",
        "sensitive": False,
        "attachment": [
            {"type": "Document", "mediaType": "image/webp", "url": "https://x.example/a.webp"},
            {
                "type": "Document",
                "mediaType": "image/webp",
                "url": "https://x.example/b.webp",
                "sensitive": True,
            },
        ],
    }
    assert content_of(parse_note(doc)).sensitive is True
    doc["attachment"] = doc["attachment"][:1]
    assert content_of(parse_note(doc)).sensitive is False


def test_hostile_post_with_15000_attachments_is_bounded() -> None:
    """Only the first 64 entries are read: ≤ 4 rows, and a page of bounded size."""
    doc = {
        "id": "https://x.example/n/1",
        "type": "Note",
        "content": "<p>hi</p>",
        "attachment": [
            {"type": "Image", "mediaType": "image/jpeg", "url": f"https://x.example/{i}.jpg"}
            for i in range(15_000)
        ],
    }
    note = parse_note(doc)
    assert len(note.attachments) == 64
    content = content_of(note)
    assert len(content.attachments or ()) == 4
    assert content.content_html.count("<a ") == 60
    assert "https://x.example/64.jpg" not in content.content_html
    assert len(content.content_html) < 10_000
