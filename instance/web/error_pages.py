"""What an error page offers beyond its message: where to go next, and what not to lose.

- A GET on a URL that only takes a form's POST (a reload after a refused post re-requests
  `/posts` with GET) goes to the page that holds that form, not to a 405.
- A refused post's text survives a CSRF failure: the compose form is shown again, filled
  in, with a fresh token.
- The page links back (to the referring page of this site), home and to search.
"""

from __future__ import annotations

import re

from quart import g, request, url_for

from instance.errors import CsrfFailed
from instance.web.forms import MAX_FIELD, safe_next

# The compose form's fields, as templates/_compose.html names them.
DRAFT_FIELDS = ("text", "summary", "visibility", "language", "in_reply_to", "next")
_POST_ACTION = re.compile(r"^/p/(\d{1,19})/[a-z_]+$")
_FOLLOW_REQUEST_ACTION = re.compile(r"^/follow_requests/[a-z_]+$")


def form_page_for(path: str) -> str | None:
    """The page holding the form that POSTs to `path`, when a GET there is a reload."""
    if path == "/posts":
        # The composer: the home feed for a signed-in person (log-in first otherwise).
        return url_for("posts.home")
    action = _POST_ACTION.match(path)
    if action:
        return url_for("posts.show_any", post_id=int(action.group(1)))
    if _FOLLOW_REQUEST_ACTION.match(path):
        return url_for("people.follow_requests")
    # Others (/logout, /follow, …) keep their 405 page: no form of theirs is re-shown.
    return None


async def refused_draft(exc: CsrfFailed) -> dict[str, str] | None:
    """The compose form's fields as sent, when `exc` refused a post; else None."""
    if request.endpoint != "posts.create" or g.get("user") is None:
        return None
    if exc.form_fields is not None:  # a streamed (multipart) form, read before the check
        sent = exc.form_fields
    else:  # an urlencoded one, read whole by the check (web/context.py)
        form = await request.form
        sent = {name: form.get(name) or "" for name in DRAFT_FIELDS}
    return {name: (sent.get(name) or "")[:MAX_FIELD] for name in DRAFT_FIELDS}


def back_link() -> str:
    """The referring page of this site, or "" (a foreign or missing referrer)."""
    referrer = request.referrer or ""
    target = safe_next(referrer, default="")
    return "" if target == request.full_path.rstrip("?") else target
