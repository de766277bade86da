"""What suspension and silencing hide, surface by surface, for local and remote accounts.

Suspension: the profile, the actor, WebFinger and every post answer like missing ones for
everybody (followers and the mentioned too), on every listing; lifting it brings all
back. Silencing: off the public timelines, hashtag pages and search, still seen by
followers (home, the post's page, the profile).
"""

from __future__ import annotations

from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.db import posts as posts_q
from instance.ids import now
from instance.posts.visibility import can_see, visible_posts
from instance.posts.writes import NewPost, PostContent
from tests.helpers.social import (
    account_id,
    deliveries,
    gapo,
    page,
    remote_account,
    user,
    write,
)
from tests.helpers.web import post_form

AP = {"Accept": "application/activity+json"}


async def moderate(app: Quart, admin: Client, name_or_id: str | int, action: str) -> None:
    target = name_or_id if isinstance(name_or_id, int) else await account_id(app, name_or_id)
    response = await post_form(
        admin,
        f"/admin/accounts/{target}/action",
        {"action": action, "reason": f"test {action}"},
        csrf_from=f"/admin/accounts/{target}",
    )
    assert response.status_code == 302, await response.get_data(as_text=True)


async def surfaces(app: Quart, viewer: Client, post_id: int, marker: str) -> dict[str, bool]:
    """Where the viewer finds the post (or, for the profile and actor, the author)."""
    found = {}
    for name, path in (
        ("local", "/public/local"),
        ("federated", "/public"),
        ("tag", "/tags/modtag"),
        ("search", "/search?q=modtag"),
        ("home", "/home"),
    ):
        response = await viewer.get(path)  # /home sends a visitor to log in
        found[name] = response.status_code == 200 and marker in await response.get_data(
            as_text=True
        )
    found["page"] = (await viewer.get(f"/p/{post_id}")).status_code == 200
    found["profile"] = (await viewer.get("/@sam")).status_code == 200
    found["actor"] = (await viewer.get("/users/sam", headers=AP)).status_code == 200
    found["note"] = (
        await viewer.get(f"/users/sam/statuses/{post_id}", headers=AP)
    ).status_code == 200
    host = gapo(app).settings.host
    webfinger = await viewer.get(f"/.well-known/webfinger?resource=acct:sam@{host}")
    found["webfinger"] = webfinger.status_code == 200
    return found


async def test_suspension_hides_a_local_account_everywhere_until_lifted(app: Quart) -> None:
    admin = await user(app, "rooty")
    await gapo(app).accounts.promote("rooty", "admin")
    sam = await user(app, "sam")
    fan = await user(app, "fan")
    await post_form(
        fan, "/follow", {"account_id": str(await account_id(app, "sam"))}, csrf_from="/home"
    )
    post_id = await write(sam, "mx-sam-post #modtag @fan")
    before = await surfaces(app, fan, post_id, "mx-sam-post")
    assert all(before.values()), before

    sam_id = await account_id(app, "sam")
    await moderate(app, admin, sam_id, "suspend")
    for viewer in (fan, app.test_client(), admin):
        during = await surfaces(app, viewer, post_id, "mx-sam-post")
        assert not any(during.values()), during
    # The notification fan had of the mention goes too.
    assert "mx-sam-post" not in await page(fan, "/notifications")
    row = await posts_q.get(gapo(app).db, post_id)
    assert row is not None and not await can_see(gapo(app).db, await account_id(app, "fan"), row)

    await moderate(app, admin, sam_id, "unsuspend")
    after = await surfaces(app, fan, post_id, "mx-sam-post")
    assert all(after.values()), after


async def test_silence_keeps_posts_for_followers_only(app: Quart) -> None:
    admin = await user(app, "rooty")
    await gapo(app).accounts.promote("rooty", "admin")
    sam = await user(app, "sam")
    fan = await user(app, "fan")
    stranger = await user(app, "stan")
    await post_form(
        fan, "/follow", {"account_id": str(await account_id(app, "sam"))}, csrf_from="/home"
    )
    post_id = await write(sam, "mx-quiet #modtag")
    await moderate(app, admin, "sam", "silence")
    for viewer in (fan, stranger, app.test_client()):
        seen = await surfaces(app, viewer, post_id, "mx-quiet")
        assert not (seen["local"] or seen["federated"] or seen["tag"] or seen["search"]), seen
        assert seen["page"] and seen["profile"] and seen["actor"]
    assert (await surfaces(app, fan, post_id, "mx-quiet"))["home"]
    # Nor is the account itself offered by the people search.
    assert "@sam" not in await page(stranger, "/search?q=sam")


async def test_suspending_a_remote_account_hides_it_here(app: Quart) -> None:
    admin = await user(app, "rooty")
    await gapo(app).accounts.promote("rooty", "admin")
    reader = await user(app, "rea")
    remote = await remote_account(app)
    created = await gapo(app).posts.writer.create(
        NewPost(
            author=remote,
            content=PostContent(
                content_html="<p>mx-remote-words</p>", summary="", sensitive=False, hashtags=()
            ),
            visibility="public",
            language=None,
            created_at=now(),
            ap_id=f"{remote['ap_id']}/statuses/1",
        )
    )
    assert "mx-remote-words" in await page(reader, "/public")
    await moderate(app, admin, int(remote["id"]), "suspend")
    assert "mx-remote-words" not in await page(reader, "/public")
    assert (await reader.get(f"/p/{created['id']}")).status_code == 404
    assert (await reader.get(f"/@{remote['username']}@{remote['domain']}")).status_code == 404
    rows = [await posts_q.get(gapo(app).db, int(created["id"]))]
    # The bulk rule agrees, also for rows that do not carry their author's state.
    plain = [{k: v for k, v in rows[0].items() if k != "author_suspended_at"}]  # type: ignore[union-attr]
    assert await visible_posts(gapo(app).db, None, plain) == []
    assert await visible_posts(gapo(app).db, None, rows) == []  # type: ignore[arg-type]


async def test_suspension_federates_an_update_flagged_suspended(app: Quart) -> None:
    """As Mastodon does: followers elsewhere get Update(Person) with `suspended: true`,
    and one without it when the suspension is lifted."""
    admin = await user(app, "rooty")
    await gapo(app).accounts.promote("rooty", "admin")
    await user(app, "sam")
    sam_id = await account_id(app, "sam")
    remote = await remote_account(app)
    sam_row = await gapo(app).accounts.account(sam_id)
    await gapo(app).relationship_writer.follow(remote, sam_row)
    await gapo(app).accounts.public_key(sam_id)  # a key, as any account that federated has
    await moderate(app, admin, sam_id, "suspend")
    [update] = await deliveries(app, "Update")
    assert update["activity"]["object"]["suspended"] is True
    assert {"suspended": "toot:suspended"} in update["activity"]["@context"]
    await gapo(app).db.execute("DELETE FROM jobs", {})
    await moderate(app, admin, sam_id, "unsuspend")
    [lifted] = await deliveries(app, "Update")
    assert "suspended" not in lifted["activity"]["object"]
