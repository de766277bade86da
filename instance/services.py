"""The composition root: opens the database and builds every service one process uses."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from activitypub.fetch import Fetcher
from instance import __version__
from instance.accounts.changes import AccountChanges, changes_path
from instance.accounts.deletion import ACCOUNT_DELETE, AccountDeletion
from instance.accounts.login_throttle import LoginThrottle
from instance.accounts.passwords import Argon2Params, PasswordService
from instance.accounts.service import AccountService
from instance.accounts.sessions import SessionService
from instance.accounts.signup_limits import SignupLimits
from instance.accounts.site import SiteSettings, site_changes_path
from instance.admin.allowlist import Allowlist
from instance.admin.dashboard import DashboardService
from instance.admin.federation import FederationAdmin
from instance.admin.moderation import Moderation
from instance.admin.operations import Operations
from instance.admin.reports import ReportQueue
from instance.admin.site import SiteAdmin
from instance.config import Settings
from instance.db import Database, open_database
from instance.db.connection import Row
from instance.db.migrate import pending_migrations
from instance.db.nodes import claim_node
from instance.federation.context import FederationContext
from instance.federation.discovery import Discovery
from instance.federation.document_cache import DocumentCache
from instance.federation.documents import Documents
from instance.federation.export import AccountExport
from instance.federation.host_blocks import BlockedHosts, host_blocks_path
from instance.federation.imports import IMPORT_JOB, RelationshipImport
from instance.federation.inbox import InboxService
from instance.federation.inbox_lane import InboxLane
from instance.federation.instance_actor import ensure_instance_actor
from instance.federation.interaction import RemoteInteraction
from instance.federation.lookup import Lookup
from instance.federation.moves import AccountMoves
from instance.federation.moves_in import MOVE_FOLLOWERS, MovedAccounts
from instance.federation.notes_in import RemoteNotes
from instance.federation.remote_actors import RemoteActors
from instance.feeds.home import HomePages
from instance.feeds.notifications import NotificationService
from instance.feeds.profiles import ProfilePages
from instance.feeds.search import SearchService
from instance.feeds.service import FeedService
from instance.feeds.suggestions import Suggestions
from instance.feeds.tags import TagFeed
from instance.ids import IdGenerator, now
from instance.jobs.housekeeping import HOUSEKEEPING, HOUSEKEEPING_INTERVAL, Housekeeping
from instance.jobs.notify_wakeup import Notifications, NotifyWakeup
from instance.jobs.queue import JobQueue
from instance.jobs.runner import JobHandler, JobRunner
from instance.jobs.unix_wakeup import UnixSocketWakeup, wake_dir
from instance.jobs.wakeup import JobWakeup
from instance.media.backends import open_storage
from instance.media.remote import RemoteMedia
from instance.media.service import MediaService
from instance.media.uploads import (
    MEDIA_PURGE,
    MEDIA_TRANSCODE,
    MEDIA_UNATTACHED,
    TRANSCODE_HOST,
    UNATTACHED_INTERVAL,
    MediaUploads,
)
from instance.notifications.writer import Notifier
from instance.outbound.actor_keys import ActorKeys
from instance.outbound.delivery_lane import DeliveryLane
from instance.outbound.fanout import FANOUT, FanOut, FanOutJob
from instance.outbound.note_documents import NoteDocuments
from instance.outbound.outbox import Outbox
from instance.outbound.profile_updates import ProfileFederation
from instance.outbound.signing import KeySigner
from instance.pools import BoundedPool
from instance.posts.mentions import Mentions
from instance.posts.reactions_list import Reactions
from instance.posts.reading import PostReader
from instance.posts.reports import ReportWriter
from instance.posts.service import PostService
from instance.posts.writes import PostWriter
from instance.ratelimit import RateLimiter, limiter_secret
from instance.relationships.mutes import MuteService
from instance.relationships.service import Relationships
from instance.relationships.writes import RelationshipWriter
from instance.shared_state import MemoryState, SharedState
from instance.urls import LocalUrls


def open_shared_state(settings: Settings) -> tuple[SharedState, bytes | None]:
    """Where limits, cached keys and fetch locks live, and the HMAC key limits file under.

    Without Redis: this process's memory and a random key per limiter (nothing to agree on
    with other processes). With Redis: every process must file an address under the same
    hash, so the key comes from the instance secret, which Redis never sees.
    """
    if not settings.redis_url:
        return MemoryState(), None
    from instance.redis_state import RedisState

    state = RedisState(settings.redis_url, timeout=settings.redis_timeout_ms / 1000)
    return state, limiter_secret(load_or_create_secret(settings.data_dir))


class SchemaOutOfDate(Exception):
    """The database needs `gapo migrate` before the server can use it."""


def load_or_create_secret(data_dir: Path, name: str = "secret_key") -> str:
    """A random secret kept in the data dir (mode 0600), made on first start."""
    path = data_dir / name
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when several workers start at once, exactly one writes the file.
        fd = path.open("x", encoding="ascii")
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with fd:
        path.chmod(0o600)
        fd.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


@dataclass
class Services:
    settings: Settings
    db: Database
    ids: IdGenerator
    password_pool: BoundedPool
    strength_pool: BoundedPool
    key_pool: BoundedPool
    actor_keys: ActorKeys
    accounts: AccountService
    sessions: SessionService
    secret_key: str
    signup_limiter: SignupLimits
    login_limiter: RateLimiter
    login_throttle: LoginThrottle
    urls: LocalUrls
    fetcher: Fetcher
    queue: JobQueue
    runner: JobRunner
    federation: FederationContext
    inbox: InboxService
    posts: PostService
    post_reader: PostReader
    profiles: ProfilePages
    reactions: Reactions
    relationships: Relationships
    relationship_writer: RelationshipWriter
    instance_actor: Row
    instance_key: Row
    documents: Documents
    discovery: Discovery
    actors: RemoteActors
    lookup: Lookup
    interactions: RemoteInteraction
    feeds: FeedService
    tags: TagFeed
    notifications: NotificationService
    federation_admin: FederationAdmin
    allowlist: Allowlist
    mutes: MuteService
    media: MediaService
    uploads: MediaUploads
    upload_limiter: RateLimiter
    export_limiter: RateLimiter
    remote_media: RemoteMedia
    image_pool: BoundedPool
    video_pool: BoundedPool
    # Finding people and posts (issue 14): the search page and the empty home's panel.
    search: SearchService
    home: HomePages
    # People's data rights (issue 17): deletion, export and import.
    deletion: AccountDeletion
    exports: AccountExport
    imports: RelationshipImport
    # The admin pages (issue 17): moderation with its audit log.
    moderation: Moderation
    # Name, rules, registration mode and pause as the admin set them (cached per process).
    site: SiteSettings
    site_admin: SiteAdmin
    dashboard: DashboardService
    # Reports: filed by people here or brought by a peer's Flag; the admin's queue.
    reports: ReportWriter
    report_queue: ReportQueue
    # Moving away (settings) and accounts moving in (the inbox's Move).
    moves: AccountMoves
    moved: MovedAccounts
    # Limits, cached keys and fetch locks: this process's memory, or Redis (scale-out).
    shared: SharedState
    # `/health` and the database's side of `/metrics`.
    operations: Operations

    async def close(self) -> None:
        await self.runner.stop()
        await self.fetcher.close()
        await self.media.storage.close()
        await self.db.close()
        await self.shared.close()
        self.password_pool.shutdown()
        self.strength_pool.shutdown()
        self.key_pool.shutdown()
        self.image_pool.shutdown()
        self.video_pool.shutdown()


async def open_services(settings: Settings) -> Services:
    """Everything a process needs, on a database whose schema is already current."""
    if await pending_migrations(settings.database_url):
        raise SchemaOutOfDate("the database schema is not current: run `gapo migrate` first")
    db = await open_database(settings)
    shared, shared_secret = open_shared_state(settings)
    # Only with Redis do limiters, the key cache, previews and fetch locks use the shared
    # state; in memory each keeps its own bounded table, as it always did.
    limits = shared if settings.redis_url else None
    ids = IdGenerator(await claim_node(db, now()))
    # Hashing admits by estimated wait (instance/admission.py): a sign-up or login that would
    # wait past password_max_wait_ms is refused at once with 503 + Retry-After.
    password_pool = BoundedPool(
        "argon2",
        settings.password_workers,
        settings.password_queue,
        max_wait=settings.password_max_wait_ms / 1000,
    )
    # zxcvbn is pure Python: one thread (more would only wait for the GIL), jobs of ~ms.
    strength_pool = BoundedPool("password-strength", 1, settings.password_queue)
    key_pool = BoundedPool("rsa-keygen", 2, settings.password_queue)
    urls = LocalUrls(settings.base_url)
    # Actors and WebFinger answers are cached per process; profile saves and suspensions
    # (in any process on this data dir) empty the caches (instance/federation/document_cache.py).
    account_changes = AccountChanges(changes_path(settings.data_dir))
    document_cache = DocumentCache(account_changes)
    actor_keys = ActorKeys(db, ids, urls, key_pool)
    instance_actor, instance_key = await ensure_instance_actor(db, ids, urls, key_pool)
    fetcher = Fetcher(
        allow_private=settings.allow_private_addresses,
        user_agent=f"Gapo/{__version__} (+{settings.base_url})",
    )
    # Runners on other machines hear of new jobs through the database where it can tell
    # them (PostgreSQL's LISTEN/NOTIFY); on SQLite every runner is on this machine.
    wakeup: JobWakeup = (
        NotifyWakeup(db)
        if isinstance(db, Notifications)
        else UnixSocketWakeup(wake_dir(settings.data_dir))
    )
    queue = JobQueue(ids, wakeup)
    outbox = Outbox(queue)
    fanout = FanOut(queue)
    host_changes = AccountChanges(host_blocks_path(settings.data_dir))
    # One answer to "is this host refused" (blocks and the allowlist mode) for the inbox,
    # the deliveries, remote media and every document fetched (third hosts included).
    blocked_hosts = BlockedHosts(db, host_changes)
    actors = RemoteActors(
        db,
        ids,
        fetcher,
        urls,
        KeySigner(instance_key["key_id"], instance_key["private_pem"]),
        shared=limits,
        refused=blocked_hosts.is_blocked,
    )
    notifier = Notifier(ids)
    relationships = Relationships(db)
    relationship_writer = RelationshipWriter(db, ids, outbox, urls, notifications=notifier)
    note_documents = NoteDocuments(urls)
    mutes = MuteService(db, ids)
    moved = MovedAccounts(db, queue, relationship_writer, urls, mutes, notifier)
    post_writer = PostWriter(
        db,
        ids,
        urls,
        notifications=notifier,
        outbox=outbox,
        fanout=fanout,
        documents=note_documents,
    )
    reports = ReportWriter(db, ids, urls, outbox, notifier, int(instance_actor["id"]))
    federation = FederationContext(
        db=db,
        ids=ids,
        urls=urls,
        actors=actors,
        notes=RemoteNotes(
            actors, urls, post_writer, max_attachments=settings.max_remote_attachments
        ),
        relationships=relationships,
        relationship_writer=relationship_writer,
        outbox=outbox,
        notifications=notifier,
        reports=reports,
        moves=moved,
    )
    inbox = InboxService(
        federation,
        queue,
        max_body=settings.max_body_bytes,
        origins=settings.origins,
        blocked_hosts=blocked_hosts,
    )
    # Decoding and resizing images is CPU-bound: a small pool that refuses past its queue.
    image_pool = BoundedPool("images", 2, 16)
    # Transcodes come from jobs, which the runner starts at most `transcode_workers` at a
    # time; the queue bound is never the limit there.
    video_pool = BoundedPool("video", settings.transcode_workers, 64)
    # The local media folder, or an S3-compatible bucket (docs/scale-out.md).
    storage = open_storage(settings)
    media = MediaService(storage, image_pool)
    remote_media = RemoteMedia(db, storage, fetcher, image_pool, refused=blocked_hosts.is_blocked)
    housekeeping = Housekeeping(
        db,
        retain_jobs_days=settings.retain_jobs_days,
        retain_inbox_days=settings.retain_inbox_days,
        retain_tombstones_days=settings.retain_tombstones_days,
        remote_media=remote_media,
        remote_media_days=settings.remote_media_days,
    )
    uploads = MediaUploads(
        db,
        ids,
        storage,
        urls,
        queue,
        image_pool=image_pool,
        video_pool=video_pool,
        incoming=settings.data_dir / "media-incoming",
        max_video_seconds=settings.max_video_seconds,
    )
    # The import job needs the lookup, built after the runner: filled in below.
    import_job: list[JobHandler] = []
    deletion = AccountDeletion(
        db,
        queue,
        outbox,
        urls,
        delete_file=uploads.delete_key,
        forget_url=media.forget,
        changes=account_changes,
    )
    runner = JobRunner(
        db,
        queue,
        {
            FANOUT: FanOutJob(db, outbox),
            HOUSEKEEPING: housekeeping.run,
            MEDIA_TRANSCODE: uploads.transcode_job,
            MEDIA_PURGE: uploads.purge_job,
            MEDIA_UNATTACHED: uploads.unattached_job,
            ACCOUNT_DELETE: deletion.job,
            IMPORT_JOB: lambda payload, job: import_job[0](payload, job),
            MOVE_FOLLOWERS: moved.job,
        },
        concurrency=settings.job_workers * 4,
        poll_interval=settings.job_poll_seconds,
        lease=settings.job_lease_seconds,
        recurring={
            HOUSEKEEPING: HOUSEKEEPING_INTERVAL,
            MEDIA_UNATTACHED: UNATTACHED_INTERVAL,
        },
        host_caps={TRANSCODE_HOST: settings.transcode_workers},
        lanes=[
            DeliveryLane(
                db,
                fetcher,
                actor_keys,
                concurrency=settings.delivery_concurrency,
                per_host=settings.delivery_per_host,
                lease=settings.job_lease_seconds,
                refused=blocked_hosts.is_blocked,
            ),
            # The `inbox` jobs: claimed in batches, each actor's applied in order.
            InboxLane(db, inbox, lease=settings.job_lease_seconds),
        ],
    )
    lookup = Lookup(
        db,
        actors,
        urls,
        settings.host,
        settings.allow_private_addresses,
        refused=blocked_hosts.is_blocked,
        shared=limits,
    )
    mentions = Mentions(db, urls, lookup)
    posts = PostService(db, post_writer, note_documents, mentions, settings.max_post_chars)
    post_reader = PostReader(db, urls)
    login_throttle = LoginThrottle(
        settings.login_failures_per_account_hour,
        load_or_create_secret(settings.data_dir),
        state=limits,
        limiter_secret=shared_secret,
    )
    passwords = PasswordService(
        password_pool,
        Argon2Params(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib),
        strength_pool=strength_pool,
    )
    site = SiteSettings(db, settings, AccountChanges(site_changes_path(settings.data_dir)))
    profile_updates = ProfileFederation(ids, fanout, urls)
    accounts = AccountService(
        settings,
        db,
        ids,
        passwords,
        actor_keys,
        media=media,
        render_text=mentions.render_text,
        login_throttle=login_throttle,
        profile_updates=profile_updates,
        changes=account_changes,
        deletion=deletion,
        site=site,
    )
    imports = RelationshipImport(db, queue, lookup, relationship_writer, mutes)
    import_job.append(imports.job)
    profiles = ProfilePages(accounts, relationships, mutes, post_reader, lookup, moved=moved)
    feeds = FeedService(db, urls)
    moderation = Moderation(db, ids, accounts)
    federation_admin = FederationAdmin(db, queue.wakeup, moderation, host_changes)
    return Services(
        settings=settings,
        db=db,
        ids=ids,
        password_pool=password_pool,
        strength_pool=strength_pool,
        key_pool=key_pool,
        actor_keys=actor_keys,
        accounts=accounts,
        login_throttle=login_throttle,
        sessions=SessionService(db, ids),
        secret_key=load_or_create_secret(settings.data_dir),
        signup_limiter=SignupLimits(
            settings.signup_rate_per_hour, state=limits, secret=shared_secret
        ),
        login_limiter=RateLimiter(
            settings.login_rate_per_5min, 300, name="login", state=limits, secret=shared_secret
        ),
        urls=urls,
        fetcher=fetcher,
        queue=queue,
        runner=runner,
        federation=federation,
        inbox=inbox,
        posts=posts,
        post_reader=post_reader,
        reactions=Reactions(db),
        actors=actors,
        documents=Documents(
            db, urls, actors, note_documents, settings.host, document_cache, actor_keys
        ),
        discovery=Discovery(settings, db, urls, document_cache),
        lookup=lookup,
        interactions=RemoteInteraction(db, lookup, actors, federation.notes, urls),
        feeds=feeds,
        tags=TagFeed(db, urls),
        notifications=NotificationService(db),
        federation_admin=federation_admin,
        allowlist=Allowlist(federation_admin),
        mutes=mutes,
        profiles=profiles,
        media=media,
        uploads=uploads,
        upload_limiter=RateLimiter(
            settings.uploads_per_30min, 1800, name="uploads", state=limits, secret=shared_secret
        ),
        export_limiter=RateLimiter(
            1,
            settings.export_interval_minutes * 60,
            name="exports",
            state=limits,
            secret=shared_secret,
        ),
        remote_media=remote_media,
        image_pool=image_pool,
        video_pool=video_pool,
        relationships=relationships,
        relationship_writer=relationship_writer,
        instance_actor=instance_actor,
        instance_key=instance_key,
        search=SearchService(db, urls, profiles),
        home=HomePages(feeds, Suggestions(db)),
        deletion=deletion,
        exports=AccountExport(
            db, note_documents, actor_keys, storage, settings.data_dir / "exports", settings.host
        ),
        imports=imports,
        moderation=moderation,
        site=site,
        site_admin=SiteAdmin(db, site, accounts, moderation),
        dashboard=DashboardService(db, federation_admin, storage.usage),
        reports=reports,
        report_queue=ReportQueue(db, moderation, reports),
        moves=AccountMoves(
            db,
            ids,
            urls,
            settings.host,
            accounts=accounts,
            lookup=lookup,
            actors=actors,
            moved=moved,
            fanout=fanout,
            profile_updates=profile_updates,
            changes=account_changes,
        ),
        moved=moved,
        shared=shared,
        operations=Operations(db),
    )
