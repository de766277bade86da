"""A reply whose parent is unknown fetches the parent chain, bounded, from a loopback peer.

Each test serves notes from a fake peer, delivers one signed Create of a reply to the
inbox, runs the job queue, and checks what was fetched (the peer counts its GETs) and
what was stored and linked.
"""

from __future__ import annotations

import re
import socket
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.federation.notes_in import MAX_ANCESTORS
from tests.federation_in_process.test_inbox_apply import apply, note, send, wrap
from tests.helpers.fake_peer import FakePeer
from tests.helpers.social import gapo


def free_port() -> int:
    """A loopback port nobody listens on (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def note_path(n: int) -> str:
    return f"/notes/{n}"


def serve_chain(peer: FakePeer, numbers: range) -> None:
    """Serve notes 1..n at /notes/<n>, each a reply to the one before (note 1 a root)."""
    for n in numbers:
        doc = {**note(peer, n, f"<p>chain note {n}</p>")}
        if n > numbers.start:
            doc["inReplyTo"] = f"{peer.base_url}{note_path(n - 1)}"
        peer.extra_docs[note_path(n)] = doc


def reply_to(peer: FakePeer, n: int, parent: str, content: str) -> dict[str, Any]:
    return {**note(peer, n, content), "inReplyTo": parent}


def note_gets(peer: FakePeer) -> list[str]:
    return [path for path in peer.gets if path.startswith("/notes/")]


async def stored(app: Quart, ap_id: str) -> Row | None:
    return await posts_q.get_by_ap_id(gapo(app).db, ap_id)


async def must(app: Quart, ap_id: str) -> Row:
    row = await stored(app, ap_id)
    assert row is not None, f"{ap_id} was not stored"
    return row


async def page(client: Client, post_id: int) -> str:
    response = await client.get(f"/p/{post_id}")
    assert response.status_code == 200
    return str(await response.get_data(as_text=True))


def ancestor_texts(body: str) -> list[str]:
    """The texts of the ancestors shown above the focused post, top first."""
    # After </head>: the page's <title> quotes the focused post itself.
    head = body.split("</head>", 1)[-1].split('class="focus"', 1)[0]
    return re.findall(r"(chain note \d+|cycle note \w+)", head)


async def test_unknown_chain_of_three_is_fetched_and_linked(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A reply to note 3 (3 → 2 → 1, none known) fetches all three, links each to its
    parent, and the reply's page shows them as ancestors, oldest first."""
    serve_chain(peer, range(1, 4))
    reply = reply_to(peer, 4, f"{peer.base_url}/notes/3", "<p>the reply</p>")
    await send(client, peer, wrap(peer, "Create", reply, 4))
    await apply(app)

    assert sorted(note_gets(peer)) == [note_path(n) for n in (1, 2, 3)]
    rows = [await must(app, f"{peer.base_url}{note_path(n)}") for n in (1, 2, 3, 4)]
    assert rows[0]["in_reply_to_id"] is None
    for child, parent in zip(rows[1:], rows, strict=False):
        assert child["in_reply_to_id"] == parent["id"]
        assert child["in_reply_to_ap_id"] == parent["ap_id"]
    for parent in rows[:3]:
        assert parent["replies_count"] == 1

    body = await page(client, rows[3]["id"])
    assert ancestor_texts(body) == ["chain note 1", "chain note 2", "chain note 3"]
    assert "the reply" in body.split('class="focus"', 1)[1]
    # And the root's page shows the whole conversation under it.
    root = await page(client, rows[0]["id"])
    tree = root.split('class="reply-tree"', 1)[1]
    assert tree.index("chain note 2") < tree.index("chain note 3") < tree.index("the reply")


async def test_long_chain_stops_at_the_bound(app: Quart, client: Client, peer: FakePeer) -> None:
    """A 30-note chain costs exactly MAX_ANCESTORS note fetches; the reply is stored and
    the fetched part is linked; the rest stays unknown."""
    serve_chain(peer, range(1, 31))
    reply = reply_to(peer, 31, f"{peer.base_url}/notes/30", "<p>deep reply</p>")
    await send(client, peer, wrap(peer, "Create", reply, 31))
    await apply(app)

    fetched = note_gets(peer)
    assert len(fetched) == MAX_ANCESTORS
    assert fetched == [note_path(n) for n in range(30, 30 - MAX_ANCESTORS, -1)]
    stored_reply = await must(app, reply["id"])
    assert "deep reply" in stored_reply["content_html"]
    current = stored_reply
    for n in range(30, 30 - MAX_ANCESTORS, -1):
        parent = await must(app, f"{peer.base_url}{note_path(n)}")
        assert current["in_reply_to_id"] == parent["id"]
        current = parent
    # The topmost fetched note remembers its parent by address only.
    assert current["in_reply_to_id"] is None
    assert current["in_reply_to_ap_id"] == f"{peer.base_url}{note_path(30 - MAX_ANCESTORS)}"
    assert await stored(app, f"{peer.base_url}{note_path(30 - MAX_ANCESTORS)}") is None
    assert len(ancestor_texts(await page(client, stored_reply["id"]))) == MAX_ANCESTORS


async def test_reply_cycle_terminates(app: Quart, client: Client, peer: FakePeer) -> None:
    """X inReplyTo Y and Y inReplyTo X: ingesting X fetches Y once and stops (X is already
    on the way in); both are stored, X under Y, and the parent links do not form a loop.
    A note that answers itself costs no fetch at all."""
    x_id, y_id = f"{peer.base_url}/notes/x", f"{peer.base_url}/notes/y"
    x = reply_to(peer, 0, y_id, "<p>cycle note x</p>") | {"id": x_id}
    y = reply_to(peer, 0, x_id, "<p>cycle note y</p>") | {"id": y_id}
    peer.extra_docs["/notes/x"] = x
    peer.extra_docs["/notes/y"] = y
    await send(client, peer, wrap(peer, "Create", x, 1))
    await apply(app)

    assert note_gets(peer) == ["/notes/y"]
    stored_x, stored_y = await must(app, x_id), await must(app, y_id)
    assert stored_x["in_reply_to_ap_id"] == y_id and stored_y["in_reply_to_ap_id"] == x_id
    assert stored_x["in_reply_to_id"] == stored_y["id"]
    assert stored_y["in_reply_to_id"] is None
    assert stored_y["replies_count"] == 1 and stored_x["replies_count"] == 0
    assert ancestor_texts(await page(client, stored_x["id"])) == ["cycle note y"]
    assert ancestor_texts(await page(client, stored_y["id"])) == []

    # A second delivery of the same Create is a no-op: nothing more is fetched.
    await send(client, peer, wrap(peer, "Create", x, 2))
    await apply(app)
    assert note_gets(peer) == ["/notes/y"]

    selfish_id = f"{peer.base_url}/notes/self"
    selfish = reply_to(peer, 0, selfish_id, "<p>cycle note self</p>") | {"id": selfish_id}
    peer.extra_docs["/notes/self"] = selfish
    await send(client, peer, wrap(peer, "Create", selfish, 3))
    await apply(app)
    assert note_gets(peer) == ["/notes/y"]
    assert (await must(app, selfish_id))["in_reply_to_id"] is None


async def test_cycle_across_two_deliveries_is_not_linked(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Y (inReplyTo X, X missing) is stored unlinked; later X arrives inReplyTo Y: X goes
    under Y, and Y is not re-linked under X, which would make a loop."""
    x_id, y_id = f"{peer.base_url}/notes/x", f"{peer.base_url}/notes/y"
    y = reply_to(peer, 0, x_id, "<p>cycle note y</p>") | {"id": y_id}
    x = reply_to(peer, 0, y_id, "<p>cycle note x</p>") | {"id": x_id}
    await send(client, peer, wrap(peer, "Create", y, 1))
    await apply(app)
    assert (await must(app, y_id))["in_reply_to_id"] is None
    await send(client, peer, wrap(peer, "Create", x, 2))
    await apply(app)
    stored_x, stored_y = await must(app, x_id), await must(app, y_id)
    assert stored_x["in_reply_to_id"] == stored_y["id"]
    assert stored_y["in_reply_to_id"] is None
    assert (stored_x["replies_count"], stored_y["replies_count"]) == (0, 1)


async def test_parent_on_a_dead_host_does_not_fail_the_reply(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """The parent's host refuses connections: the reply is stored anyway, unlinked."""
    dead = f"http://127.0.0.1:{free_port()}"
    parent_id = f"{dead}/notes/1"
    reply = reply_to(peer, 5, parent_id, "<p>orphan reply</p>")
    await send(client, peer, wrap(peer, "Create", reply, 5))
    await apply(app)

    row = await must(app, reply["id"])
    assert "orphan reply" in row["content_html"]
    assert row["in_reply_to_id"] is None
    assert row["in_reply_to_ap_id"] == parent_id
    assert await stored(app, parent_id) is None
    assert "orphan reply" in await page(client, row["id"])


async def test_parent_that_arrives_later_adopts_the_reply(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """The parent is missing (404) when the reply comes; when its Create arrives later, the
    waiting reply is linked under it and counted."""
    parent = note(peer, 7, "<p>late parent</p>")
    reply = reply_to(peer, 8, parent["id"], "<p>early reply</p>")
    await send(client, peer, wrap(peer, "Create", reply, 8))
    await apply(app)
    assert note_gets(peer) == [note_path(7)]
    assert (await must(app, reply["id"]))["in_reply_to_id"] is None

    await send(client, peer, wrap(peer, "Create", parent, 7))
    await apply(app)
    stored_parent = await must(app, parent["id"])
    assert (await must(app, reply["id"]))["in_reply_to_id"] == stored_parent["id"]
    assert stored_parent["replies_count"] == 1
    tree = (await page(client, stored_parent["id"])).split('class="reply-tree"', 1)[1]
    assert "early reply" in tree
