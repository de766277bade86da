"""The URLs of this instance's ActivityPub objects, built from the base URL (never Host).

The one place that spells them: every actor id, key id, inbox, collection, page and note id
of this instance comes from `LocalUrls` (tests/test_one_definition.py keeps it that way).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

INSTANCE_ACTOR_USERNAME = "instance.actor"


def remote_file_hash(url: str) -> str:
    """The name of a remote file in /media/proxy/ (and its `remote_files` row): sha256, hex."""
    return hashlib.sha256(url.encode()).hexdigest()


@dataclass(frozen=True)
class LocalUrls:
    base_url: str

    def absolute(self, path: str) -> str:
        """A path (with its query) on this instance's origin."""
        return f"{self.base_url}{path}"

    @property
    def home(self) -> str:
        return f"{self.base_url}/"

    def actor(self, username: str) -> str:
        return f"{self.base_url}/users/{username}"

    def key_id(self, username: str) -> str:
        return f"{self.actor(username)}#main-key"

    def profile(self, username: str) -> str:
        return f"{self.base_url}/@{username}"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def featured(self, username: str) -> str:
        return f"{self.actor(username)}/collections/featured"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base_url}/inbox"

    @property
    def instance_actor(self) -> str:
        return f"{self.base_url}/actor"

    @property
    def instance_actor_path(self) -> str:
        return self.instance_actor.removeprefix(self.base_url)

    @property
    def instance_key_id(self) -> str:
        return f"{self.instance_actor}#main-key"

    @property
    def instance_inbox(self) -> str:
        return f"{self.instance_actor}/inbox"

    @property
    def instance_outbox(self) -> str:
        return f"{self.instance_actor}/outbox"

    @staticmethod
    def page(collection: str, marker: str = "true", *, max_id: int | None = None) -> str:
        """A page of a collection: ``?page=<marker>``, older items from ``max_id`` down."""
        return f"{collection}?page={marker}" + (f"&max_id={max_id}" if max_id else "")

    def note(self, username: str, post_id: int) -> str:
        return f"{self.actor(username)}/statuses/{post_id}"

    def note_page(self, username: str, post_id: int) -> str:
        return f"{self.base_url}/@{username}/{post_id}"

    def activity(self, username: str, kind: str, row_id: int) -> str:
        return f"{self.actor(username)}#{kind}/{row_id}"

    def replies(self, username: str, post_id: int) -> str:
        return f"{self.note(username, post_id)}/replies"

    def tag(self, name: str) -> str:
        return f"{self.base_url}/tags/{name}"

    def media(self, key: str) -> str:
        """A stored file (an upload, a thumbnail, a cached remote file) by its storage key."""
        return f"{self.base_url}/media/{key}"

    def proxied(self, remote_url: str) -> str:
        """Where readers load a remote file from: this origin, never the remote server."""
        return f"{self.base_url}/media/proxy/{remote_file_hash(remote_url)}"

    def served(self, url: str | None) -> str | None:
        """A URL as a reader's browser may load it: ours as it is, a remote one proxied."""
        if not url:
            return None
        return url if self.is_local(url) else self.proxied(url)

    def is_local(self, url: str | None) -> bool:
        return bool(url) and (url == self.base_url or str(url).startswith(self.base_url + "/"))

    def parse_actor(self, url: str) -> str | None:
        """The local username an actor URL (or its key id) names, else None."""
        if not self.is_local(url):
            return None
        path = url[len(self.base_url) :].split("#", 1)[0]
        match = re.fullmatch(r"/users/([a-z0-9_]{1,30})", path)
        return match.group(1) if match else None

    def parse_note(self, url: str) -> int | None:
        if not self.is_local(url):
            return None
        path = url[len(self.base_url) :]
        match = re.fullmatch(r"/users/[a-z0-9_]{1,30}/statuses/(\d{1,20})", path)
        return int(match.group(1)) if match else None
