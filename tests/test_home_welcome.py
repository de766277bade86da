"""A new person's empty home says what to do: people here to follow (the most active, then
the newest), the local timeline, finding someone elsewhere, and completing the profile."""

from __future__ import annotations

import re

from quart import Quart

from instance.db import accounts as accounts_q
from tests.helpers.social import account_id, act_ok, gapo, home, user, write
from tests.helpers.web import AppFactory, signup


def suggested(body: str) -> list[str]:
    """The usernames the getting-started panel suggests, in order."""
    panel = body.split('class="people suggestions"', 1)
    if len(panel) < 2:
        return []
    return re.findall(r'href="/@([^"]+)"', panel[1].split("</ul>", 1)[0])


async def test_an_empty_home_suggests_people_and_first_steps(app: Quart) -> None:
    busy = await user(app, "busy")
    for text in ("một", "hai", "ba"):
        await write(busy, text)
    quiet = await user(app, "quiet")
    await write(quiet, "chỉ một bài", visibility="followers")  # not public: not "active"
    await user(app, "newest")
    me = await user(app, "me")

    body = await home(me)
    # The one who posts most first, then newcomers by sign-up; never oneself.
    assert suggested(body) == ["busy", "newest", "quiet"]
    assert "Complete your profile" in body
    assert 'href="/public/local"' in body
    assert "@name@example.social" in body
    assert 'name="account_id"' in body and f'value="{await account_id(app, "busy")}"' in body


async def test_suggestions_leave_out_followed_blocked_and_muted_people(app: Quart) -> None:
    for name in ("lan", "hoa", "minh", "tuan"):
        await user(app, name)
    me = await user(app, "me")
    await act_ok(me, "/follow", account_id=str(await account_id(app, "lan")))
    await act_ok(me, "/block", account_id=str(await account_id(app, "hoa")))
    blocker = await user(app, "blocker")
    await act_ok(blocker, "/block", account_id=str(await account_id(app, "me")))
    await act_ok(me, "/mute", account_id=str(await account_id(app, "tuan")))
    suggestions = gapo(app).home.suggestions
    names = [a.username for a in await suggestions.accounts(await account_id(app, "me"))]
    assert names == ["minh"]


async def test_the_panel_goes_once_the_home_has_posts_and_follows(app: Quart) -> None:
    lan = await user(app, "lan")
    await write(lan, "chào bạn mới")
    me = await user(app, "me")
    assert "People to follow" in await home(me)
    await act_ok(me, "/follow", account_id=str(await account_id(app, "lan")))
    body = await home(me)
    assert "chào bạn mới" in body and 'class="welcome"' not in body


async def test_a_complete_profile_is_not_asked_for(app: Quart) -> None:
    me = await user(app, "me")
    me_id = await account_id(app, "me")
    async with gapo(app).db.transaction() as tx:
        await accounts_q.update_profile(
            tx, me_id, {"avatar_url": "http://localhost:8000/media/a.webp", "note_source": "Tôi"}
        )
    body = await home(me)
    assert 'class="welcome"' in body and "Complete your profile" not in body


async def test_sign_ups_waiting_for_approval_are_not_suggested(make_app: AppFactory) -> None:
    app = await make_app(registrations="approval")
    for name in ("waiting", "approved"):
        assert (await signup(app.test_client(), name)).status_code == 201
    await gapo(app).accounts.approve("approved")
    names = [a.username for a in await gapo(app).home.suggestions.accounts(0)]
    assert names == ["approved"]
