"""A person's archive: a zip of their posts, profile, likes, media and relationship lists.

Shaped like Mastodon's archive and its CSV exports, so another server's import reads it:
`outbox.json` (every post of theirs as a Create, in an OrderedCollection), `actor.json`,
`likes.json` (the ids of the posts they liked), `media_attachments/<file>` and
`following_accounts.csv` (header `Account address,Show boosts,Notify on new posts,Languages`),
`blocked_accounts.csv` (one address a line, no header) and `muted_accounts.csv` (header
`Account address,Hide notifications`).

The documents are gathered from the database on the event loop (short reads); the zip is
written by a thread into a temporary file under the data dir, which the caller streams and
then removes, so a large archive never sits in memory or blocks the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from instance.db import Database
from instance.db import account_export as export_q
from instance.db import account_moves as moves_q
from instance.db import accounts as accounts_q
from instance.db import posts as posts_q
from instance.db.rows import AccountRow
from instance.errors import NotFound
from instance.media.storage import MediaStorage
from instance.outbound import to_ap
from instance.outbound.actor_keys import ActorKeys
from instance.outbound.note_documents import NoteDocuments
from instance.outbound.to_ap import notes as notes_ap

ALL_VISIBILITIES = ("public", "unlisted", "followers", "direct")
PAGE = 200
FOLLOWING_HEADER = ["Account address", "Show boosts", "Notify on new posts", "Languages"]
MUTED_HEADER = ["Account address", "Hide notifications"]
STALE_AFTER = 3600


class AccountExport:
    def __init__(
        self,
        db: Database,
        notes: NoteDocuments,
        keys: ActorKeys,
        storage: MediaStorage,
        work_dir: Path,
        host: str,
    ) -> None:
        self.db = db
        self.notes = notes
        self.keys = keys
        self.storage = storage
        self.work_dir = work_dir
        self.host = host

    async def archive(self, account_id: int) -> Path:
        """The archive of the local account, as a temporary zip file the caller removes."""
        account = await accounts_q.get_by_id(self.db, account_id)
        if account is None or not account["local"] or account["deleted_at"] is not None:
            raise NotFound()
        key = await self.keys.for_account(account_id)
        texts: dict[str, str] = {
            "actor.json": _json(
                to_ap.person(
                    self.notes.urls,
                    account,
                    key["public_pem"] if key else "",
                    await moves_q.get(self.db, account_id),
                )
            ),
            "outbox.json": _json(await self._outbox(account)),
            "likes.json": _json(await self._likes(account_id)),
            "following_accounts.csv": await self._csv("following", account_id),
            "blocked_accounts.csv": await self._csv("blocks", account_id),
            "muted_accounts.csv": await self._csv("mutes", account_id),
        }
        # Local files are zipped where they are; a bucket's are downloaded for the zip's
        # writing and removed after it.
        async with contextlib.AsyncExitStack() as copies:
            files: dict[str, Path] = {}
            for k in await export_q.media_keys(self.db, account_id):
                path = await copies.enter_async_context(self.storage.local_copy(k))
                if path is not None:
                    files[f"media_attachments/{k}"] = path
            return await asyncio.to_thread(_write_zip, self.work_dir, texts, files)

    async def _outbox(self, account: AccountRow) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        max_id = None
        while rows := await posts_q.by_account(
            self.db, account["id"], visibilities=ALL_VISIBILITIES, limit=PAGE, max_id=max_id
        ):
            for row in rows:
                items.append(
                    notes_ap.create(await self.notes.note(self.db, row, with_context=False))
                )
            max_id = rows[-1]["id"]
        return to_ap.ordered_collection("outbox.json", len(items), first=None, items=items)

    async def _likes(self, account_id: int) -> dict[str, Any]:
        ids = [self.notes.ap_id_of(row) for row in await export_q.liked_posts(self.db, account_id)]
        return to_ap.ordered_collection("likes.json", len(ids), first=None, items=ids)

    async def _csv(self, kind: str, account_id: int) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if kind == "following":
            writer.writerow(FOLLOWING_HEADER)
        elif kind == "mutes":
            writer.writerow(MUTED_HEADER)
        for row in await export_q.targets(self.db, kind, account_id):
            address = f"{row['username']}@{row['domain'] or self.host}"
            if kind == "following":
                writer.writerow([address, "true", "false", ""])
            elif kind == "mutes":
                writer.writerow([address, "true"])
            else:
                writer.writerow([address])
        return out.getvalue()


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2)


def _write_zip(work_dir: Path, texts: dict[str, str], files: dict[str, Path]) -> Path:
    """Runs in a thread: the zip, in a temporary file of the data dir (never /tmp, which may
    be shared with other users of the machine). Archives left by a download that never
    finished (the process died mid-stream) are removed first, once an hour old."""
    work_dir.mkdir(parents=True, exist_ok=True)
    stale = time.time() - STALE_AFTER
    for old in work_dir.glob("export-*.zip"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < stale:
                old.unlink()
    fd, name = tempfile.mkstemp(prefix="export-", suffix=".zip", dir=work_dir)
    path = Path(name)
    try:
        with open(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            for arcname, text in texts.items():
                archive.writestr(arcname, text)
            for arcname, source in files.items():
                # Media are already compressed: stored as they are.
                archive.write(source, arcname, compress_type=zipfile.ZIP_STORED)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
