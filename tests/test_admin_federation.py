"""The federation admin page: domain blocks with severities, who may change them, the CSV
in Mastodon's shape, and per-host health."""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client
from werkzeug.datastructures import FileStorage

from instance.db import hosts as hosts_q
from instance.db import users as users_q
from instance.ids import now
from instance.posts.writes import NewPost, PostContent
from tests.helpers.social import gapo, page, remote_account, user
from tests.helpers.web import csrf_of, post_form

MASTODON_CSV = (
    "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
    "bad.example,suspend,false,false,Harassment,false\n"
    "loud.example,silence,true,false,,true\n"
    "pics.example,noop,true,true,Gore,false\n"
)


async def staff(app: Quart, name: str, role: str) -> Client:
    client = await user(app, name)
    await gapo(app).accounts.promote(name, role)
    return client


async def block(client: Client, domain: str, severity: str = "suspend", **extra: str) -> object:
    form = {"domain": domain, "severity": severity, "private_comment": "spam wave", **extra}
    return await post_form(client, "/admin/federation/block", form, csrf_from="/admin/federation")


async def test_a_moderator_blocks_and_only_an_admin_lifts(app: Quart) -> None:
    """A moderator's suspension reaches the inbox's switch; they may not loosen or remove
    it (404, like any page they have no right to); an admin removes it with a reason."""
    moderator = await staff(app, "moddy", "moderator")
    admin = await staff(app, "rooty", "admin")
    assert (await block(moderator, "https://Bad.Example/")).status_code == 302
    assert await hosts_q.is_blocked(gapo(app).db, "bad.example")
    assert "bad.example" in await page(moderator, "/admin/federation")
    assert (await block(moderator, "bad.example", "silence")).status_code == 404
    unblock = {"domain": "bad.example", "reason": "apologised"}
    response = await post_form(
        moderator, "/admin/federation/unblock", unblock, csrf_from="/admin/federation"
    )
    assert response.status_code == 404
    response = await post_form(
        admin, "/admin/federation/unblock", unblock, csrf_from="/admin/federation"
    )
    assert response.status_code == 302
    assert not await hosts_q.is_blocked(gapo(app).db, "bad.example")
    log = await page(admin, "/admin/log")
    assert "domain_suspend" in log and "domain_unblock" in log and "apologised" in log


async def test_a_block_needs_a_reason_and_a_domain(app: Quart) -> None:
    admin = await staff(app, "rooty", "admin")
    response = await block(admin, "bad.example", private_comment="")
    assert response.status_code == 422
    assert (await block(admin, "not a domain")).status_code == 422
    assert await hosts_q.list_blocks(gapo(app).db) == []


async def test_a_person_does_not_find_the_page(app: Quart) -> None:
    person = await user(app, "pat")
    assert (await person.get("/admin/federation")).status_code == 404
    assert (await person.get("/admin/federation/domain_blocks.csv")).status_code == 404
    token = await csrf_of(person, "/home")
    response = await person.post(
        "/admin/federation/block",
        form={
            "domain": "x.example",
            "severity": "suspend",
            "private_comment": "x",
            "csrf_token": token,
        },
    )
    assert response.status_code == 404


async def test_csv_import_and_export_in_mastodon_shape(app: Quart) -> None:
    """An import of Mastodon's domain_blocks.csv is exported back as the same rows."""
    admin = await staff(app, "rooty", "admin")
    token = await csrf_of(admin, "/admin/federation")
    response = await admin.post(
        "/admin/federation/import",
        form={"csrf_token": token},
        files={"file": _upload(MASTODON_CSV)},
    )
    assert response.status_code == 302, await response.get_data(as_text=True)
    exported = await (await admin.get("/admin/federation/domain_blocks.csv")).get_data(as_text=True)
    assert sorted(exported.splitlines()) == sorted(MASTODON_CSV.splitlines())
    db = gapo(app).db
    assert await hosts_q.is_blocked(db, "bad.example")
    assert not await hosts_q.is_blocked(db, "loud.example")
    assert await hosts_q.rejects_media(db, "pics.example")


async def test_a_bad_row_imports_nothing(app: Quart) -> None:
    admin = await staff(app, "rooty", "admin")
    token = await csrf_of(admin, "/admin/federation")
    bad = MASTODON_CSV + "worse.example,obliterate,false,false,,false\n"
    response = await admin.post(
        "/admin/federation/import", form={"csrf_token": token}, files={"file": _upload(bad)}
    )
    assert response.status_code == 422
    assert await hosts_q.list_blocks(gapo(app).db) == []


async def test_a_silenced_domain_leaves_the_public_timeline(app: Quart) -> None:
    admin = await staff(app, "rooty", "admin")
    reader = await user(app, "rea")
    remote = await remote_account(app)
    await gapo(app).posts.writer.create(
        NewPost(
            author=remote,
            content=PostContent(
                content_html="<p>mx-loud-words</p>", summary="", sensitive=False, hashtags=()
            ),
            visibility="public",
            language=None,
            created_at=now(),
            ap_id=f"{remote['ap_id']}/statuses/9",
        )
    )
    assert "mx-loud-words" in await page(reader, "/public")
    assert (await block(admin, remote["domain"], "silence")).status_code == 302
    assert "mx-loud-words" not in await page(reader, "/public")
    # Silenced, not suspended: the inbox still takes what they send.
    assert not await hosts_q.is_blocked(gapo(app).db, remote["domain"])


async def test_host_health_lists_failing_hosts_first(app: Quart) -> None:
    admin = await staff(app, "rooty", "admin")
    db = gapo(app).db
    ts = now()
    await hosts_q.set_health(db, "fine.example", json.dumps({"last_success_at": ts}), ts)
    await hosts_q.set_health(
        db,
        "down.example",
        json.dumps({"consecutive_failures": 7, "open_until": ts + 600, "last_failure_at": ts}),
        ts - 10,
    )
    hosts = await gapo(app).federation_admin.health(await _staff_row(app, "rooty"))
    assert [h.domain for h in hosts][:2] == ["down.example", "fine.example"]
    assert hosts[0].state == "open" and hosts[0].consecutive_failures == 7
    body = await page(admin, "/admin/federation")
    assert "down.example" in body and "open (paused)" in body


def _upload(text: str) -> FileStorage:
    return FileStorage(
        BytesIO(text.encode()), filename="domain_blocks.csv", content_type="text/csv"
    )


async def _staff_row(app: Quart, name: str) -> object:
    return await users_q.get_by_username(gapo(app).db, name)


async def test_only_an_admin_switches_the_mode_and_edits_the_allowlist(app: Quart) -> None:
    """The mode and the allowlist are on the federation page, an admin's (a moderator gets
    404), and each change lands in the audit log."""
    moderator = await staff(app, "moddy", "moderator")
    admin = await staff(app, "rooty", "admin")
    mode = {"mode": "allowlist", "reason": "closing ranks"}
    allow = {"domain": "Friend.Example", "reason": "a friend"}
    for path, form in (("/admin/federation/mode", mode), ("/admin/federation/allow", allow)):
        response = await post_form(moderator, path, form, csrf_from="/admin/federation")
        assert response.status_code == 404
        response = await post_form(admin, path, form, csrf_from="/admin/federation")
        assert response.status_code == 302
    text = await page(admin, "/admin/federation")
    assert 'id="allowlist"' in text and "friend.example" in text
    assert 'value="allowlist" selected' in text
    bad = {"mode": "closed", "reason": "typo"}
    response = await post_form(admin, "/admin/federation/mode", bad, csrf_from="/admin/federation")
    assert response.status_code == 422
    remove = {"domain": "friend.example", "reason": "no longer", "remove": "1"}
    response = await post_form(
        admin, "/admin/federation/allow", remove, csrf_from="/admin/federation"
    )
    assert response.status_code == 302
    assert await gapo(app).federation_admin.allowlist(await _admin_row(app)) == []
    log = await page(admin, "/admin/log")
    assert "federation_allowlist" in log and "domain_allow" in log and "domain_disallow" in log


async def _admin_row(app: Quart) -> Any:
    return await users_q.get_by_username(gapo(app).db, "rooty")


async def test_allowlist_csv_import_and_export(app: Quart) -> None:
    """Mastodon's domain_allows.csv (or a plain list) adds domains, exported back the same;
    a bad line imports nothing; a moderator may not import."""
    admin = await staff(app, "rooty", "admin")
    token = await csrf_of(admin, "/admin/federation")
    bad = "#domain\nfriends.example\nnot a domain\n"
    response = await admin.post(
        "/admin/federation/allowlist/import",
        form={"csrf_token": token},
        files={"file": _upload(bad)},
    )
    assert response.status_code == 422
    assert await hosts_q.list_allowed(gapo(app).db) == []
    response = await admin.post(
        "/admin/federation/allowlist/import",
        form={"csrf_token": token},
        files={"file": _upload("#domain\nFriends.Example\npals.example\n\nfriends.example\n")},
    )
    assert response.status_code == 302, await response.get_data(as_text=True)
    exported = await (await admin.get("/admin/federation/domain_allows.csv")).get_data(as_text=True)
    assert exported == "#domain\nfriends.example\npals.example\n"
    response = await admin.post(
        "/admin/federation/allowlist/import",
        form={"csrf_token": token},
        files={"file": _upload("more.example\n")},
    )
    assert response.status_code == 302
    assert await hosts_q.list_allowed(gapo(app).db) == [
        "friends.example",
        "more.example",
        "pals.example",
    ]
    assert "imported allowlist" in await page(admin, "/admin/log")
    moderator = await staff(app, "minh", "moderator")
    token = await csrf_of(moderator, "/admin/federation")
    response = await moderator.post(
        "/admin/federation/allowlist/import",
        form={"csrf_token": token},
        files={"file": _upload("sneaky.example\n")},
    )
    assert response.status_code == 404
    assert "sneaky.example" not in await hosts_q.list_allowed(gapo(app).db)
