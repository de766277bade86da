"""A small, independent ActivityPub server built on bovine, for Gapo's interop tests.

It runs in its own virtualenv (.venv-bovine, see ../setup_bovine_venv.sh), never in Gapo's:

    python peer.py --port P --host 127.0.0.1 --name alice --state-dir D

Everything it sends is signed by bovine (draft-cavage, rsa-sha256, `Digest: sha-256=...`);
everything its inbox receives is checked by bovine's `SignatureChecker`, with the sender's key
fetched over plain HTTP (loopback is fine: bovine's client has no address filter). Key fetches
are the one unsigned request, so that two peers verifying each other's signed GETs cannot
recurse forever. A key fetched once is kept and used when its document later answers 410 (a
deleted actor's own signed Delete), as Mastodon keeps remote keys. Follows are accepted at once. State (key, inbox, followers, objects) lives in
D/key.json and D/state.json. Test control API on the same port, under /_control/:

    POST /_control/follow {"actor": url-or-handle}   -> {"id": follow id, "actor", "status"}
    POST /_control/post {"content", "inReplyTo"?, "to"?: [actor], "attachment"?: [...]}
                              -> {"id": note id, ...}
    POST /_control/fetch {"url"}  -> the document, fetched with bovine's signed GET
    GET  /_control/inbox      -> [{"activity", "verified", "key_id", "signer", "error"}]
    GET  /_control/followers  -> [actor id]
    GET  /_control/following  -> [{"id", "actor", "inbox", "state"}]
    GET  /_control/fetches    -> [{"path", "verified", "key_id", "signer"}] (signed GETs seen)
    POST /_control/aliases {"aliases": [actor id]}  -> the actor with them as `alsoKnownAs`
    POST /_control/move {"target": actor id}  -> {"id", "deliveries"}: a signed Move of this
                              actor to the followers (and `movedTo` on the actor from then on)
    GET  /_control/moves      -> [{"id", "origin", "target", "checked", "reason"}] Moves received

A Move received is checked as Mastodon does (object is the sender itself; the target, fetched
with a signed GET, names the sender in `alsoKnownAs`); the result is kept, nothing follows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from bovine import BovineActor
from bovine.activitystreams import Actor, OrderedCollection, factories_for_actor_object
from bovine.activitystreams.activity_factory import Activity
from bovine.activitystreams.utils import id_for_object
from bovine.clients import lookup_uri_with_webfinger
from bovine.crypto import build_validate_http_signature, generate_rsa_public_private_key
from bovine.crypto.signature import Signature
from bovine.crypto.types import CryptographicIdentifier
from bovine.types import Visibility
from bovine.utils import webfinger_response_json
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart, Response, jsonify, request

AP = "application/activity+json"
log = logging.getLogger("bovine_peer")


def ap_response(doc: Any, status: int = 200) -> Response:
    return Response(json.dumps(doc), status=status, content_type=AP)


class Peer:
    """One actor, its keys and what it has seen; `client` is bovine's signing HTTP client."""

    def __init__(self, host: str, port: int, name: str, state_dir: Path) -> None:
        self.base = f"http://{host}:{port}"
        self.actor_id = f"{self.base}/actor"
        self.handle = f"{name}@{host}:{port}"
        state_dir.mkdir(parents=True, exist_ok=True)
        key_file, self.state_file = state_dir / "key.json", state_dir / "state.json"
        if not key_file.exists():
            public, private = generate_rsa_public_private_key()
            key_file.write_text(json.dumps({"public": public, "private": private}))
        keys = json.loads(key_file.read_text())
        self.private_pem = keys["private"]
        self.profile = Actor(
            id=self.actor_id,
            preferred_username=name,
            name=name,
            inbox=f"{self.base}/inbox",
            outbox=f"{self.base}/outbox",
            followers=f"{self.base}/followers",
            following=f"{self.base}/following",
            url=self.actor_id,
            public_key=keys["public"],
            public_key_name="main-key",
        ).build(visibility=Visibility.OWNER)
        self.activities, self.objects = factories_for_actor_object(self.profile, self.new_id)
        state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {}
        self.inbox: list[dict[str, Any]] = state.get("inbox", [])
        self.fetches: list[dict[str, Any]] = state.get("fetches", [])
        self.followers: dict[str, str] = state.get("followers", {})  # actor id -> inbox
        self.following: dict[str, dict[str, Any]] = state.get("following", {})  # by follow id
        self.store: dict[str, Any] = state.get("store", {})  # served objects, by id
        self.outbox: list[str] = state.get("outbox", [])
        self.also_known_as: list[str] = state.get("also_known_as", [])
        self.moved_to: str | None = state.get("moved_to")
        self.moves: list[dict[str, Any]] = state.get("moves", [])
        # Keys seen before, by key id: as Mastodon keeps a remote actor's key, so that the
        # signed Delete of an actor whose document now answers 410 still verifies.
        self.known_keys: dict[str, dict[str, Any]] = state.get("known_keys", {})
        self.check_signature = build_validate_http_signature(self.retrieve_key)
        self.session: aiohttp.ClientSession | None = None
        self.client: BovineActor | None = None

    def new_id(self) -> str:
        return f"{self.base}/objects/{uuid.uuid4()}"

    def save(self) -> None:
        keys = ("inbox", "fetches", "followers", "following", "store", "outbox", "known_keys")
        keys += ("also_known_as", "moved_to", "moves")
        self.state_file.write_text(json.dumps({k: getattr(self, k) for k in keys}, indent=1))

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=15)
        self.session = aiohttp.ClientSession(timeout=timeout)
        self.client = BovineActor(
            actor_id=self.actor_id,
            public_key_url=f"{self.actor_id}#main-key",
            secret=self.private_pem,
        )
        await self.client.init(session=self.session)

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def retrieve_key(self, key_id: str) -> CryptographicIdentifier | None:
        """bovine's key retriever: fetch the key id (an actor or a key document) unsigned."""
        assert self.session is not None
        async with self.session.get(key_id, headers={"accept": AP}) as response:
            if response.status == 410 and key_id in self.known_keys:
                return CryptographicIdentifier.from_public_key(self.known_keys[key_id])
            if response.status != 200:
                log.warning("key %s: HTTP %s", key_id, response.status)
                return None
            doc = json.loads(await response.text())
        keys = doc.get("publicKey", doc)
        keys = keys if isinstance(keys, list) else [keys]
        key = next((k for k in keys if k.get("id") == key_id), keys[0] if len(keys) == 1 else None)
        if key is None or ("publicKey" in doc and key.get("owner") != doc.get("id")):
            return None  # no such key, or an actor vouching for someone else's key
        self.known_keys[key_id] = key
        self.save()
        return CryptographicIdentifier.from_public_key(key)

    async def verify(self) -> dict[str, Any]:
        """Check the current request's signature with bovine; never raises."""
        result: dict[str, Any] = {"verified": False, "key_id": None, "signer": None}
        try:
            header = request.headers.get("signature")
            if header and "signature-input" not in request.headers:
                result["key_id"] = Signature.from_signature_header(header).key_id
            result["signer"] = await self.check_signature(request)
        except Exception as error:  # bovine raises on malformed input
            result["error"] = f"{type(error).__name__}: {error}"
        result["verified"] = result["signer"] is not None
        return result

    async def signed_post(self, inbox: str, doc: dict[str, Any]) -> int:
        assert self.client is not None and self.client.client is not None
        response = await self.client.client.post(inbox, json.dumps(doc))
        async with response:
            body = await response.text()
        if response.status >= 300:
            log.warning("POST %s: %s %s", inbox, response.status, body[:500])
        return response.status

    async def fetch_actor(self, url: str) -> dict[str, Any]:
        assert self.client is not None and self.session is not None
        if "://" not in url:  # a handle: WebFinger over plain http
            handle = url.removeprefix("acct:").lstrip("@")
            domain = "http://" + handle.split("@", 1)[1]
            found, _ = await lookup_uri_with_webfinger(self.session, "acct:" + handle, domain)
            if not found:
                raise ValueError(f"WebFinger found no actor for {handle}")
            url = found
        doc = await self.client.get(url, create_tombstone=False)  # signed GET
        if not isinstance(doc, dict) or "inbox" not in doc:
            raise ValueError(f"{url} is not an actor")
        return doc

    def actor_document(self) -> dict[str, Any]:
        """bovine's actor, with the migration fields bovine's builder does not know."""
        doc = dict(self.profile)
        if self.also_known_as:
            doc["alsoKnownAs"] = list(self.also_known_as)
        if self.moved_to:
            doc["movedTo"] = self.moved_to
        return doc

    async def check_move(self, activity: dict[str, Any], actor: str) -> dict[str, Any]:
        """Mastodon's checks of an incoming Move, with bovine's signed GET for the target."""
        target = id_for_object(activity.get("target"))
        entry: dict[str, Any] = {"id": activity.get("id"), "origin": actor, "target": target}
        if id_for_object(activity.get("object")) != actor:
            return {**entry, "checked": False, "reason": "object is not the sender"}
        if not target or target == actor:
            return {**entry, "checked": False, "reason": "no other target"}
        try:
            document = await self.fetch_actor(target)
        except Exception as error:  # unreachable or not an actor
            return {**entry, "checked": False, "reason": f"target: {error}"}
        aliases = document.get("alsoKnownAs") or []
        aliases = aliases if isinstance(aliases, list) else [aliases]
        if actor not in aliases:
            return {**entry, "checked": False, "reason": "target does not name the origin"}
        return {**entry, "checked": True, "reason": None}

    def remember(self, doc: dict[str, Any]) -> dict[str, Any]:
        self.store[doc["id"]] = doc
        return doc

    async def process(self, activity: dict[str, Any]) -> None:
        """Side effects of a verified activity."""
        kind, actor = activity.get("type"), id_for_object(activity.get("actor"))
        obj = activity.get("object")
        if kind == "Follow" and id_for_object(obj) == self.actor_id and actor:
            follower = await self.fetch_actor(actor)
            self.followers[actor] = follower["inbox"]
            accept = self.remember(self.activities.accept(activity, include_activity=True).build())
            self.save()
            await self.signed_post(follower["inbox"], accept)
        elif kind == "Undo" and isinstance(obj, dict) and obj.get("type") == "Follow":
            if id_for_object(obj.get("actor")) == actor:
                self.followers.pop(actor or "", None)
        elif kind == "Move" and actor:
            self.moves.append(await self.check_move(activity, actor))
        elif kind in ("Accept", "Reject"):
            follow = self.following.get(id_for_object(obj) or "")
            if follow and follow["actor"] == actor:
                follow["state"] = "accepted" if kind == "Accept" else "rejected"
        self.save()


def make_app(peer: Peer) -> Quart:
    app = Quart(__name__)
    app.before_serving(peer.start)
    app.after_serving(peer.stop)

    @app.before_request
    async def log_signed_get() -> None:
        if request.method == "GET" and "signature" in request.headers:
            path = request.path + (
                f"?{request.query_string.decode()}" if request.query_string else ""
            )
            peer.fetches.append({"path": path, **await peer.verify()})
            peer.save()

    @app.get("/actor")
    async def actor() -> Response:
        return ap_response(peer.actor_document())

    @app.get("/.well-known/webfinger")
    async def webfinger() -> Any:
        resource = request.args.get("resource", "")
        if resource not in (f"acct:{peer.handle}", peer.actor_id):
            return jsonify({"error": "unknown resource"}), 404
        jrd = webfinger_response_json(f"acct:{peer.handle}", peer.actor_id)
        return Response(json.dumps(jrd), content_type="application/jrd+json")

    @app.get("/objects/<oid>")
    async def stored(oid: str) -> Response:
        doc = peer.store.get(f"{peer.base}/objects/{oid}")
        return ap_response(doc or {"error": "not found"}, 200 if doc else 404)

    def collection(name: str, items: list[str]) -> Response:
        doc = OrderedCollection(id=f"{peer.base}/{name}", items=items, count=len(items))
        return ap_response(doc.build())

    @app.get("/outbox")
    async def outbox() -> Response:
        return collection("outbox", peer.outbox)

    @app.get("/followers")
    async def followers() -> Response:
        return collection("followers", list(peer.followers))

    @app.get("/following")
    async def following() -> Response:
        accepted = [f["actor"] for f in peer.following.values() if f["state"] == "accepted"]
        return collection("following", accepted)

    @app.post("/inbox")
    async def inbox() -> Any:
        try:
            activity = json.loads(await request.get_data())
        except ValueError:
            return jsonify({"error": "body is not JSON"}), 400
        entry: dict[str, Any] = {"activity": activity, **await peer.verify()}
        actor = id_for_object(activity.get("actor")) if isinstance(activity, dict) else None
        if entry["verified"] and entry["signer"] != actor:
            entry.update(verified=False, error=f"signed by {entry['signer']}, actor is {actor}")
        elif not entry["verified"]:
            entry.setdefault("error", "bovine did not verify the signature")
        peer.inbox.append(entry)
        peer.save()
        if not entry["verified"]:
            return jsonify({"error": entry["error"]}), 401
        app.add_background_task(peer.process, activity)
        return "", 202

    @app.post("/_control/follow")
    async def control_follow() -> Any:
        target = await peer.fetch_actor((await request.get_json())["actor"])
        follow = peer.remember(peer.activities.follow(target["id"]).build())
        peer.following[follow["id"]] = {
            "id": follow["id"],
            "actor": target["id"],
            "inbox": target["inbox"],
            "state": "pending",
        }
        peer.save()
        status = await peer.signed_post(target["inbox"], follow)
        answer = {"id": follow["id"], "actor": target["id"], "status": status}
        return jsonify(answer), 200 if status < 300 else 502

    @app.post("/_control/post")
    async def control_post() -> Any:
        data = await request.get_json()
        extra = [await peer.fetch_actor(url) for url in data.get("to", [])]
        mentions = [
            {
                "type": "Mention",
                "href": a["id"],
                "name": f"@{a.get('preferredUsername')}@{urlsplit(a['id']).netloc}",
            }
            for a in extra
        ]
        note = peer.objects.note(
            content=data["content"], in_reply_to=data.get("inReplyTo"), tag=mentions
        ).as_public()
        note.to.update(a["id"] for a in extra)
        built = note.build()
        if data.get("attachment"):
            built["attachment"] = data["attachment"]
        create = peer.remember(peer.activities.create(peer.remember(built)).build())
        peer.outbox.append(create["id"])
        peer.save()
        inboxes = {*peer.followers.values(), *(a["inbox"] for a in extra)}
        deliveries = {inbox: await peer.signed_post(inbox, create) for inbox in sorted(inboxes)}
        failed = any(status >= 300 for status in deliveries.values())
        answer = {"id": built["id"], "activity": create["id"], "deliveries": deliveries}
        return jsonify(answer), 502 if failed else 200

    @app.post("/_control/fetch")
    async def control_fetch() -> Any:
        assert peer.client is not None
        url = (await request.get_json())["url"]
        return jsonify(await peer.client.get(url, create_tombstone=False))

    @app.post("/_control/aliases")
    async def control_aliases() -> Any:
        peer.also_known_as = [str(a) for a in (await request.get_json())["aliases"]]
        peer.save()
        return jsonify(peer.actor_document())

    @app.post("/_control/move")
    async def control_move() -> Any:
        target = str((await request.get_json())["target"])
        move = Activity(
            type="Move",
            actor=peer.actor_id,
            id=peer.new_id(),
            to={f"{peer.base}/followers"},
            object=peer.actor_id,
            target=target,
        ).build()
        peer.moved_to = target
        peer.remember(move)
        peer.save()
        inboxes = sorted(set(peer.followers.values()))
        deliveries = {inbox: await peer.signed_post(inbox, move) for inbox in inboxes}
        failed = any(status >= 300 for status in deliveries.values())
        return jsonify({"id": move["id"], "deliveries": deliveries}), 502 if failed else 200

    @app.get("/_control/moves")
    async def control_moves() -> Any:
        return jsonify(peer.moves)

    @app.get("/_control/inbox")
    async def control_inbox() -> Any:
        return jsonify(peer.inbox)

    @app.get("/_control/followers")
    async def control_followers() -> Any:
        return jsonify(list(peer.followers))

    @app.get("/_control/following")
    async def control_following() -> Any:
        return jsonify(list(peer.following.values()))

    @app.get("/_control/fetches")
    async def control_fetches() -> Any:
        return jsonify(peer.fetches)

    return app


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="alice")
    parser.add_argument("--state-dir", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    peer = Peer(args.host, args.port, args.name, args.state_dir)
    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    config.accesslog = "-"
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await serve(make_app(peer), config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]


if __name__ == "__main__":
    asyncio.run(main())
