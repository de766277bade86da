"""The shapes of the rows the query modules return, one `TypedDict` per query shape.

SQL is written by hand, so mypy cannot read a SELECT; each query function instead declares
the shape it selects, and mypy checks every key that services, views and serializers read
from it. A shape here must match its SELECT (the columns are named beside each one);
`tests/test_db_rows.py` checks that against a real database.

`connection.Row` (any mapping) remains for rows whose shape is truly generic: a caller's
dict of values to insert, the job queue's payload rows, single-column lookups.
"""

from __future__ import annotations

from typing import TypedDict


class AccountRow(TypedDict):
    """`db.accounts.ACCOUNT_COLUMNS`: a local or remote actor."""

    id: int
    local: int
    username: str
    username_key: str
    domain: str  # "" for a local account
    display_name: str
    note_source: str
    note_html: str
    fields_json: str
    locked: int
    bot: int
    discoverable: int
    indexable: int  # 1: the account's public posts may be found in search
    avatar_url: str | None
    header_url: str | None
    suspended_at: int | None
    deleted_at: int | None  # asked to be deleted: hidden, 410, removed by a job
    silenced_at: int | None  # hidden from public timelines, tags and search (0013)
    sensitive_forced: int  # 1: every post shown behind a content warning (0013)
    created_at: int
    updated_at: int
    ap_id: str | None
    ap_type: str
    ap_url: str | None
    ap_inbox: str | None
    ap_shared_inbox: str | None
    ap_outbox: str | None
    ap_followers: str | None
    ap_following: str | None
    ap_featured: str | None
    ap_json: str | None
    ap_fetched_at: int | None


class FollowedAccountRow(AccountRow):
    """An account in a follower or following list, with the follow that lists it."""

    follow_id: int
    follow_ap_id: str | None


class ReactorRow(AccountRow):
    """An account that liked or shared a post, with the like's or share's id."""

    reaction_id: int


class PostRow(TypedDict):
    """`db.posts.POST_COLUMNS`."""

    id: int
    account_id: int
    local: int
    ap_id: str | None
    url: str | None
    in_reply_to_id: int | None
    in_reply_to_ap_id: str | None
    thread_root_id: int | None
    content_source: str
    content_html: str
    summary: str
    sensitive: int
    visibility: str
    language: str | None
    created_at: int
    updated_at: int | None
    deleted_at: int | None
    replies_count: int
    likes_count: int
    shares_count: int


class PostWithAuthorRow(PostRow):
    """`db.posts.WITH_AUTHOR`: a post and the names of its author."""

    username: str
    domain: str
    display_name: str
    author_ap_id: str | None
    author_local: int
    avatar_url: str | None
    author_url: str | None
    author_followers: str | None
    author_suspended_at: int | None  # a suspended author's posts are seen by nobody
    author_sensitive_forced: int


class SharedPostRow(PostWithAuthorRow):
    """`db.feeds.home_shares`: a shared post, the share's id and who shared it."""

    feed_id: int
    shared_by_id: int
    shared_by_username: str
    shared_by_domain: str
    shared_by_display_name: str


class PostEditRow(TypedDict):
    """`db.posts.edits`: an earlier version of a post."""

    id: int
    content_html: str
    summary: str
    created_at: int


class FollowRow(TypedDict):
    """`db.follows.get_follow`, `get_by_ap_id`: one follow, pending or accepted."""

    id: int
    follower_id: int
    followee_id: int
    state: str  # pending or accepted
    ap_id: str | None
    created_at: int
    accepted_at: int | None


class InboxesRow(TypedDict):
    """`db.follows.follower_inboxes`: where a follower receives deliveries."""

    ap_inbox: str | None
    ap_shared_inbox: str | None


class AccountMoveRow(TypedDict):
    """`db.account_moves.get`: an account's aliases and where it moved, if it did."""

    account_id: int
    also_known_as_json: str  # [{"acct": "name@host", "id": actor id}, ...]
    moved_to_ap_id: str | None
    moved_at: int | None
    updated_at: int


class BlockRow(TypedDict):
    """`db.blocks.get`."""

    id: int
    account_id: int
    target_id: int
    ap_id: str | None
    created_at: int


class ReactionRow(TypedDict):
    """`db.reactions.get`, `get_by_ap_id`: one like or share."""

    id: int
    account_id: int
    post_id: int
    ap_id: str | None
    created_at: int


class OwnReactionRow(TypedDict):
    """`db.reactions.of_account`: that the account liked or shared a post."""

    kind: str  # likes or shares
    post_id: int


class NotificationRow(TypedDict):
    """`db.notifications.page`: a notification, who caused it and what `can_see` needs of
    its post (the post columns are None for a notification without one)."""

    id: int
    kind: str
    from_account_id: int
    post_id: int | None
    created_at: int
    read_at: int | None
    username: str
    domain: str
    display_name: str
    from_local: int
    avatar_url: str | None
    post_account_id: int | None
    post_visibility: str | None
    post_deleted_at: int | None
    post_summary: str | None
    post_content_html: str | None


class UserRow(TypedDict):
    """`db.users.USER_JOIN`: a local login and the names of its account."""

    user_id: int
    account_id: int
    email: str
    password_hash: str
    role: str
    locale: str | None
    approved: int
    user_created_at: int
    last_login_at: int | None
    last_active_at: int | None
    username: str
    display_name: str
    suspended_at: int | None
    deleted_at: int | None  # the account is being deleted: it logs in nowhere
    silenced_at: int | None


class SessionUserRow(UserRow):
    """`db.sessions.get_user_for_token`: the user of a session, and its end."""

    session_expires_at: int


class SessionRow(TypedDict):
    """`db.sessions.list_for_user`: one signed-in device."""

    id: int
    token_hash: str
    device: str
    created_at: int


class HashtagRow(TypedDict):
    """`db.hashtags.get_by_key`."""

    id: int
    name_key: str
    display_name: str
    created_at: int


class HashtagMatchRow(HashtagRow):
    """`db.search.hashtags`: a tag and how many posts carry it."""

    uses: int


class KeyPairRow(TypedDict):
    """`db.keys.get_for_account`: an account's newest key (no private half if remote)."""

    id: int
    account_id: int
    key_id: str
    public_pem: str
    private_pem: str | None
    created_at: int


class RemoteKeyRow(TypedDict):
    """`db.keys.get_by_key_id`: a remote actor's public key and who owns it."""

    key_id: str
    public_pem: str
    account_id: int
    owner_ap_id: str  # only remote owners are selected, and a remote account has its actor id


class JobSlotRow(TypedDict):
    """`db.jobs.due_per_host`: a due job's id and host, before it is claimed."""

    id: int
    host: str


class JobRow(TypedDict):
    """`db.jobs.JOB_COLUMNS`: one queued, running or finished job."""

    id: int
    kind: str
    payload: str  # JSON
    host: str  # the host a delivery goes to ('' for other kinds): per-host caps read it
    state: str  # queued, running, done, dead
    attempts: int
    run_at: int
    locked_by: str | None
    locked_until: int | None
    last_error: str | None
    created_at: int
    finished_at: int | None


class JobCountRow(TypedDict):
    """`db.jobs.counts_by_state`: how many jobs of a kind are in a state."""

    kind: str
    state: str
    n: int


class HostRow(TypedDict):
    """`db.hosts.get`: what this instance knows of a remote host."""

    domain: str
    health_json: str  # activitypub.delivery.HostHealth, as JSON
    signature_scheme: str | None
    blocked: int
    updated_at: int


class InboxActivityRow(TypedDict):
    """`db.inbox.get`: a received activity, stored once by its id."""

    id: int
    ap_id: str
    ap_type: str
    actor_ap_id: str
    key_id: str | None
    body: str  # JSON, as received
    received_at: int
    processed_at: int | None
    result: str | None


class UsedInviteRow(TypedDict):
    """`db.invites.use_invite`: the invite a sign-up just used."""

    id: int
    code: str


class MediaRow(TypedDict):
    """`db.media.MEDIA_COLUMNS`: one attachment, a local upload or a remote file."""

    id: int
    account_id: int
    post_id: int | None
    position: int
    kind: str  # image | video | gifv | audio | unknown
    state: str  # processing | ready | failed | remote
    media_type: str
    file_key: str | None
    thumb_key: str | None
    source_key: str | None
    remote_url: str | None
    remote_preview_url: str | None
    width: int | None
    height: int | None
    duration: float | None
    blurhash: str | None
    focus_x: float
    focus_y: float
    description: str
    error: str | None
    size: int
    created_at: int


class RemoteFileRow(TypedDict):
    """`db.media.remote_file`: a remote URL Gapo may serve from its own origin."""

    url_hash: str
    url: str
    file_key: str | None
    media_type: str | None
    size: int
    fetched_at: int | None
    last_used_at: int | None
    failed_at: int | None
    created_at: int


class AdminAccountRow(TypedDict):
    """`db.moderation.ADMIN_ACCOUNT`: an account as moderators list it, with its login."""

    id: int
    local: int
    username: str
    domain: str
    display_name: str
    note_html: str
    ap_type: str
    suspended_at: int | None
    silenced_at: int | None
    deleted_at: int | None
    sensitive_forced: int
    created_at: int
    ap_url: str | None
    user_id: int | None
    role: str | None
    approved: int | None
    last_active_at: int | None


class ModerationLogRow(TypedDict):
    """`db.moderation.log_page`: one entry of the audit log (labels outlive deleted rows)."""

    id: int
    actor_account_id: int | None
    actor_label: str
    action: str
    target_account_id: int | None
    target_label: str
    reason: str
    created_at: int


class DomainBlockRow(TypedDict):
    """`db.hosts.BLOCK_COLUMNS`: a domain block, in Mastodon's fields."""

    domain: str
    severity: str | None  # 'silence' | 'suspend' | None (only media or reports rejected)
    reject_media: int
    reject_reports: int
    public_comment: str
    private_comment: str
    obfuscate: int
    updated_at: int


class HostHealthRow(TypedDict):
    """`db.hosts.health_list`: a host's delivery health as stored."""

    domain: str
    health_json: str
    severity: str | None
    updated_at: int


class QueuedCountRow(TypedDict):
    """`db.jobs.queued_by_host` and `queued_by_kind`: waiting jobs per host or kind."""

    key: str
    n: int


class InviteRow(TypedDict):
    """`db.invites.list_recent`: an invite code and how much of it is used."""

    id: int
    code: str
    created_by: int | None
    created_at: int
    expires_at: int | None
    max_uses: int
    uses: int


class DayCountRow(TypedDict):
    """`db.stats`: a count for one UTC day (days since the epoch)."""

    day: int
    n: int


class ReportRow(TypedDict):
    """`db.reports.REPORT`: a report with the names of its target and reporter."""

    id: int
    reporter_account_id: int | None
    target_account_id: int
    post_ids_json: str
    comment: str
    ap_id: str | None
    forwarded_at: int | None
    resolved_at: int | None
    resolved_by: int | None
    resolution: str | None
    created_at: int
    target_username: str
    target_domain: str
    target_local: int
    reporter_username: str | None
    reporter_domain: str | None
    reporter_local: int | None
    reporter_type: str | None
