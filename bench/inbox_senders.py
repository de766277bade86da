"""Remote "sender" actors for the inbox benchmark: actor documents with a real RSA key.

    python bench/inbox_senders.py --public-pem key.pub

Runs in a process of its own (aiohttp on loopback), so serving the actors never shares a
GIL with the client or the server measured. Every actor `/users/<name>` carries the same
public key (`<actor>#main-key`), which the benchmark signs with; the server fetches each
actor once, when its first activity arrives (the benchmark's warm-up). Once listening it
prints one line, `ready PORT`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path

from aiohttp import web

AP = "application/activity+json"


def actor_document(base_url: str, name: str, public_pem: str) -> dict[str, object]:
    actor = f"{base_url}/users/{name}"
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor,
        "type": "Person",
        "preferredUsername": name,
        "name": name.title(),
        "inbox": f"{actor}/inbox",
        "outbox": f"{actor}/outbox",
        "followers": f"{actor}/followers",
        "following": f"{actor}/following",
        "endpoints": {"sharedInbox": f"{base_url}/inbox"},
        "publicKey": {"id": f"{actor}#main-key", "owner": actor, "publicKeyPem": public_pem},
    }


async def serve(public_pem: str) -> None:
    base = {"url": ""}

    async def actor(request: web.Request) -> web.Response:
        doc = actor_document(base["url"], request.match_info["name"], public_pem)
        return web.Response(text=json.dumps(doc), content_type=AP)

    async def accept(_request: web.Request) -> web.Response:
        return web.Response(status=202)

    app = web.Application()
    app.router.add_get("/users/{name}", actor)
    app.router.add_post("/{path:.*}", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base["url"] = f"http://127.0.0.1:{port}"
    print(f"ready {port}", flush=True)
    await asyncio.Event().wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--public-pem", type=Path, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.public_pem.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
