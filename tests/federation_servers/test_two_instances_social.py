"""Shares, comments and likes between two real Gapo instances, both ways, with undo.

One pair of instances for the module (the `instances` fixture); each test signs up its own
people. Everything is done through the web forms over real HTTP; what a person would see
is checked on the pages (post page counts and reply tree, notifications, home feed). SQL
is used only to find the local id of a copied post, and for facts no page shows.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers.instances import GapoInstance, WebUser, eventually, signed_in

pytestmark = pytest.mark.federation

AP = "application/activity+json"
SHARE_COUNT = re.compile(r'<span class="share-count">(\d+)</span>')
LIKE_COUNT = re.compile(r'<span class="like-count">(\d+)</span>')
SHARED_BY = re.compile(r'<p class="shared-by"><a href="[^"]+">([^<]+)</a>')


def local_copy(instance: GapoInstance, ap_id: str) -> int | None:
    """The id under which `instance` stored the post `ap_id` (a lookup, not an assertion)."""
    rows = instance.query("SELECT id FROM posts WHERE ap_id = ?", (ap_id,))
    return int(rows[0]["id"]) if rows else None


async def arrived(instance: GapoInstance, ap_id: str) -> int:
    post_id: int = await eventually(lambda: local_copy(instance, ap_id))
    return post_id


def note_id(instance: GapoInstance, username: str, post_id: int) -> str:
    return f"{instance.actor(username)}/statuses/{post_id}"


async def accepted(instance: GapoInstance, follower: str, followee: str) -> None:
    """Wait until `instance` knows `follower` follows `followee` (accepted)."""
    await eventually(
        lambda: instance.query(
            "SELECT 1 FROM follows f JOIN accounts a ON a.id = f.follower_id"
            " JOIN accounts b ON b.id = f.followee_id"
            " WHERE a.username = ? AND b.username = ? AND f.state = 'accepted'",
            (follower, followee),
        )
    )


async def follow(user: WebUser, other: GapoInstance, username: str) -> None:
    """`user` follows `username` on the other instance, accepted on both sides."""
    await user.follow(other.handle(username))
    await accepted(user.instance, user.username, username)
    await accepted(other, user.username, username)


def focus(page: str) -> str:
    """The focused post of a post page (not its ancestors or replies)."""
    return page.split('class="focus"', 1)[1].split('class="actions"', 1)[0]


async def count_on_page(user: WebUser, post_id: int, pattern: re.Pattern[str]) -> int:
    match = pattern.search(focus(await user.get(f"/p/{post_id}")))
    assert match, f"no count on /p/{post_id}"
    return int(match.group(1))


async def wait_count(user: WebUser, post_id: int, pattern: re.Pattern[str], want: int) -> None:
    async def check() -> bool:
        return await count_on_page(user, post_id, pattern) == want

    await eventually(check)


async def notifications(user: WebUser, kind_text: str) -> list[str]:
    """The notification entries of `user` that say `kind_text` ("shared your post", ...)."""
    page = await user.get("/notifications")
    items = page.split('<li class="notification')[1:]
    return [item.split("</li>", 1)[0] for item in items if kind_text in item]


async def wait_notified(user: WebUser, kind_text: str, by: str, excerpt: str) -> None:
    async def check() -> list[str]:
        return [n for n in await notifications(user, kind_text) if f"@{by}@" in n and excerpt in n]

    await eventually(check)


async def wait_unnotified(user: WebUser, kind_text: str, by: str) -> None:
    async def check() -> bool:
        return not [n for n in await notifications(user, kind_text) if f"@{by}@" in n]

    await eventually(check)


def home_items(page: str) -> list[str]:
    return page.split('<article class="post"')[1:]


async def shared_in_home(user: WebUser, text: str) -> list[str]:
    """Who is shown as having shared the post saying `text` in `user`'s home feed."""
    names: list[str] = []
    for item in home_items(await user.get("/home")):
        if text in item:
            names += SHARED_BY.findall(item)
    return names


async def test_shares_both_ways_with_undo_and_home_feed(
    instances: tuple[GapoInstance, GapoInstance],
) -> None:
    """ann@one shares ben@two's post and ben shares ann's: the author sees the count and a
    share notification, the sharer's follower on the other instance sees the share in the
    home feed, and unsharing takes all of it back. A share of a post the other instance has
    never seen (dan@one's, shared by ann) is fetched there and shown to ann's follower."""
    one, two = instances
    people = (one, "ann"), (one, "dan"), (two, "ben"), (two, "cat")
    async with signed_in(*people) as (ann, dan, ben, cat):
        # ann and ben follow each other (so each has the other's posts); cat@two follows
        # ann only, dan@one follows ben only.
        await follow(ann, two, "ben")
        await follow(ben, one, "ann")
        await follow(cat, one, "ann")
        await follow(dan, two, "ben")

        # A → B: ann shares ben's post.
        ben_post = await ben.post("Ben post worth sharing")
        ben_copy = await arrived(one, note_id(two, "ben", ben_post))
        assert await count_on_page(ben, ben_post, SHARE_COUNT) == 0
        await ann.act(ben_copy, "share")
        assert await count_on_page(ann, ben_copy, SHARE_COUNT) == 1
        await wait_count(ben, ben_post, SHARE_COUNT, 1)
        await wait_notified(ben, "shared your post", "ann", "Ben post worth sharing")
        # cat follows ann, not ben: the share brings ben's post into cat's home feed.
        assert await eventually(lambda: shared_in_home(cat, "Ben post worth sharing")) == ["ann"]

        await ann.act(ben_copy, "unshare")
        assert await count_on_page(ann, ben_copy, SHARE_COUNT) == 0
        await wait_count(ben, ben_post, SHARE_COUNT, 0)
        await wait_unnotified(ben, "shared your post", "ann")

        async def gone_from_cat_home() -> bool:
            return "Ben post worth sharing" not in await cat.get("/home")

        await eventually(gone_from_cat_home)

        # B → A: ben shares ann's post; dan@one, who follows ben, sees it shared.
        ann_post = await ann.post("Ann post worth sharing")
        ann_copy = await arrived(two, note_id(one, "ann", ann_post))
        await ben.act(ann_copy, "share")
        await wait_count(ann, ann_post, SHARE_COUNT, 1)
        await wait_notified(ann, "shared your post", "ben", "Ann post worth sharing")
        assert await eventually(lambda: shared_in_home(dan, "Ann post worth sharing")) == ["ben"]
        await ben.act(ann_copy, "unshare")
        await wait_count(ann, ann_post, SHARE_COUNT, 0)
        await wait_unnotified(ann, "shared your post", "ben")

        async def gone_from_dan_home() -> bool:
            return "Ann post worth sharing" not in await dan.get("/home")

        await eventually(gone_from_dan_home)

        # ann shares dan's post, which two has never seen: two fetches it from one and
        # cat sees it in her home feed, shared by ann.
        dan_post = await dan.post("Dan post nobody on two has seen")
        dan_note = note_id(one, "dan", dan_post)
        assert local_copy(two, dan_note) is None
        await ann.act(dan_post, "share")
        assert await eventually(lambda: shared_in_home(cat, "Dan post nobody on two has seen")) == [
            "ann"
        ]
        dan_copy = local_copy(two, dan_note)
        assert dan_copy is not None
        assert await count_on_page(cat, dan_copy, SHARE_COUNT) == 1


async def test_comment_on_remote_post_from_the_web_ui(
    instances: tuple[GapoInstance, GapoInstance],
) -> None:
    """eve@one comments on fay@two's post through the /posts form: on two the comment sits
    under fay's post, linked by inReplyTo, and fay is notified; fay's answer comes back."""
    one, two = instances
    async with signed_in((one, "eve"), (two, "fay")) as (eve, fay):
        # Only eve follows fay: a reply reaches the parent's author without a follow.
        await follow(eve, two, "fay")
        fay_post = await fay.post("Fay asks: phở or bún chả?")
        fay_note = note_id(two, "fay", fay_post)
        fay_copy = await arrived(one, fay_note)

        comment = await eve.post("Eve says: bún chả, always", in_reply_to=str(fay_copy))
        comment_note = note_id(one, "eve", comment)
        # On one, the comment points at fay's note in its ActivityPub form.
        async with eve.session.get(comment_note, headers={"Accept": AP}) as response:
            assert response.status == 200
            assert json.loads(await response.text())["inReplyTo"] == fay_note
        assert (
            "Eve says: bún chả, always"
            in (await eve.get(f"/p/{fay_copy}")).split('class="replies"', 1)[1]
        )

        # On two, the comment is under fay's post, and fay's post is its ancestor.
        async def under_fay_post() -> bool:
            page = await fay.get(f"/p/{fay_post}")
            return "Eve says: bún chả, always" in page.split('class="replies"', 1)[1]

        await eventually(under_fay_post)
        comment_copy = await arrived(two, comment_note)
        thread = await fay.get(f"/p/{comment_copy}")
        above = thread.split('class="focus"', 1)[0]
        assert "Fay asks: phở or bún chả?" in above
        await wait_notified(fay, "replied to your post", "eve", "Eve says")

        # fay answers the comment from two; eve sees it in the thread and is notified.
        await fay.post("Fay: then bún chả it is", in_reply_to=str(comment_copy))

        async def under_comment() -> bool:
            page = await eve.get(f"/p/{comment}")
            return "Fay: then bún chả it is" in page.split('class="replies"', 1)[1]

        await eventually(under_comment)
        await wait_notified(eve, "replied to your post", "fay", "Fay: then")
        # The whole conversation hangs off fay's post on one too.
        tree = (await eve.get(f"/p/{fay_copy}")).split('class="replies"', 1)[1]
        assert tree.index("Eve says") < tree.index("Fay: then bún chả it is")


async def test_likes_both_ways_with_undo(instances: tuple[GapoInstance, GapoInstance]) -> None:
    """gus@one likes hal@two's post and hal likes gus's: counts and like notifications on
    the author's instance, and unliking brings both back."""
    one, two = instances
    async with signed_in((one, "gus"), (two, "hal")) as (gus, hal):
        await follow(gus, two, "hal")
        await follow(hal, one, "gus")

        # A → B
        hal_post = await hal.post("Hal likeable post")
        hal_copy = await arrived(one, note_id(two, "hal", hal_post))
        await gus.act(hal_copy, "like")
        assert await count_on_page(gus, hal_copy, LIKE_COUNT) == 1
        await wait_count(hal, hal_post, LIKE_COUNT, 1)
        await wait_notified(hal, "liked your post", "gus", "Hal likeable post")
        await gus.act(hal_copy, "unlike")
        assert await count_on_page(gus, hal_copy, LIKE_COUNT) == 0
        await wait_count(hal, hal_post, LIKE_COUNT, 0)
        await wait_unnotified(hal, "liked your post", "gus")

        # B → A
        gus_post = await gus.post("Gus likeable post")
        gus_copy = await arrived(two, note_id(one, "gus", gus_post))
        await hal.act(gus_copy, "like")
        await wait_count(gus, gus_post, LIKE_COUNT, 1)
        await wait_notified(gus, "liked your post", "hal", "Gus likeable post")
        await hal.act(gus_copy, "unlike")
        await wait_count(gus, gus_post, LIKE_COUNT, 0)
        await wait_unnotified(gus, "liked your post", "hal")

        # Liking again after the undo counts once more (the Undo really removed the like).
        await hal.act(gus_copy, "like")
        await wait_count(gus, gus_post, LIKE_COUNT, 1)
