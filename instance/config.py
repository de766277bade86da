"""Settings: one typed, frozen object read from GAPO_* variables and an optional TOML file."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REGISTRATION_MODES = ("open", "approval", "invite", "closed")
SYNCHRONOUS_MODES = ("FULL", "NORMAL")
# Above the longest retry schedule of a remote server (see retain_inbox_days).
MIN_RETAIN_INBOX_DAYS = 4


class ConfigError(Exception):
    """A setting has a value Gapo cannot run with."""


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"not a boolean: {value!r}")


def _alternate_origins(scheme: str, text: str) -> list[str]:
    """`GAPO_ALTERNATE_HOSTS` as origins; an entry without a scheme takes the base URL's."""
    found: list[str] = []
    for entry in text.split(","):
        entry = entry.strip().lower().rstrip("/")
        if not entry:
            continue
        parts = urlsplit(entry if "://" in entry else f"{scheme}://{entry}")
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
            raise ConfigError(f"GAPO_ALTERNATE_HOSTS entries must be hosts or origins: {entry!r}")
        found.append(f"{parts.scheme}://{parts.netloc}")
    return found


def _onion_origin(text: str) -> str:
    """`GAPO_ONION_ADDRESS` as an origin (`http://….onion`); '' when not set."""
    entry = text.strip().lower().rstrip("/")
    if not entry:
        return ""
    parts = urlsplit(entry if "://" in entry else f"http://{entry}")
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host.endswith(".onion") or parts.path:
        raise ConfigError(f"GAPO_ONION_ADDRESS must be an onion host like abc.onion: {text!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _check_time_zone(name: str) -> None:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    # ZoneInfoNotFoundError is a KeyError; a malformed name is a ValueError.
    except (KeyError, ValueError, OSError) as exc:
        raise ConfigError(f"GAPO_DEFAULT_TIME_ZONE is not an IANA time zone: {name!r}") from exc


MEDIA_STORAGES = ("local", "s3")
S3_SERVING = ("proxy", "public", "signed")
S3_ADDRESSING = ("path", "virtual")
# AWS caps a presigned URL at 7 days.
MAX_SIGNED_SECONDS = 7 * 86400


def _check_media_storage(settings: Settings) -> None:
    if settings.media_storage not in MEDIA_STORAGES:
        raise ConfigError(f"GAPO_MEDIA_STORAGE must be local or s3, not {settings.media_storage!r}")
    if settings.s3_serving not in S3_SERVING:
        raise ConfigError(f"GAPO_S3_SERVING must be one of {', '.join(S3_SERVING)}")
    if settings.s3_addressing not in S3_ADDRESSING:
        raise ConfigError("GAPO_S3_ADDRESSING must be path or virtual")
    if not 1 <= settings.s3_signed_seconds <= MAX_SIGNED_SECONDS:
        raise ConfigError(f"GAPO_S3_SIGNED_SECONDS must be between 1 and {MAX_SIGNED_SECONDS}")
    public = settings.s3_public_url.rstrip("/")
    if public and urlsplit(public).scheme not in ("http", "https"):
        raise ConfigError(f"GAPO_S3_PUBLIC_URL must be an http(s) URL, not {public!r}")
    object.__setattr__(settings, "s3_public_url", public)
    if settings.media_storage != "s3":
        return
    if not settings.s3_bucket:
        raise ConfigError("GAPO_MEDIA_STORAGE=s3 needs GAPO_S3_BUCKET")
    if settings.s3_serving == "public" and not public:
        raise ConfigError("GAPO_S3_SERVING=public needs GAPO_S3_PUBLIC_URL")
    if bool(settings.s3_access_key) != bool(settings.s3_secret_key):
        raise ConfigError("set both GAPO_S3_ACCESS_KEY and GAPO_S3_SECRET_KEY, or neither")


@dataclass(frozen=True)
class Settings:
    """Everything an admin can set. Field name `x` is env var `GAPO_X` and TOML key `x`."""

    data_dir: Path = Path("./data")
    base_url: str = "http://localhost:8000"
    # Other origins this instance answers on (an onion address…), comma-separated:
    # signed requests made to them verify too. Ids are always built from base_url.
    alternate_hosts: str = ""
    # The instance's Tor onion service (`abc…xyz.onion`): HTML pages then send
    # `Onion-Location` to it (instance/web/onion_location.py). It answers there too, as an
    # alternate host; ids stay on base_url.
    onion_address: str = ""
    database_url: str = ""
    # Shared limits, sign-up limits, key caches and fetch locks for many processes on many
    # machines (`redis://host:6379/0`, docs/scale-out.md); empty: all kept in each process.
    redis_url: str = ""
    # A Redis call slower than this is answered from this process's memory instead (and
    # Redis is left alone for 5 s): a limit is checked inside a request.
    redis_timeout_ms: int = 500
    # `/metrics` answers only a request carrying `Authorization: Bearer <this>`; empty: 404.
    metrics_token: str = ""
    # Connections each process keeps open to PostgreSQL (GAPO_DATABASE_URL=postgresql://…);
    # N processes hold up to N times this, under the server's max_connections.
    database_pool_size: int = 10
    allow_private_addresses: bool = False
    registrations: str = "open"
    sqlite_synchronous: str = "FULL"
    max_post_chars: int = 5000
    max_body_bytes: int = 1_048_576
    # A request body must arrive within `body_timeout` seconds plus one second per
    # `body_min_rate` bytes received; at most `max_body_reads` bodies arrive at once per process.
    body_timeout: int = 10
    body_min_rate: int = 8192
    max_body_reads: int = 256
    password_workers: int = 2
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19 * 1024
    password_queue: int = 64
    # A sign-up or login is admitted to the hashing pool only if, by the pool's estimate of
    # a hash, it would be done within this many milliseconds; else 503 + Retry-After at once.
    password_max_wait_ms: int = 1000
    # Accounts made per client address per hour (instance/accounts/signup_limits.py): high,
    # because mobile carriers put thousands of phones behind one address.
    signup_rate_per_hour: int = 100
    login_rate_per_5min: int = 20
    # Wrong passwords for one account from anywhere, per hour (docs/security.md).
    login_failures_per_account_hour: int = 25
    instance_name: str = "Gapo"
    # Gapo sends no mail, so an address is optional at sign-up unless this is on; either
    # way addresses are not unique and log-in is by username (docs/privacy.md, "Email").
    require_email: bool = False
    # Times are shown in the reader's zone (their browser's); this one until it is known.
    default_time_zone: str = "Asia/Ho_Chi_Minh"
    # Number of reverse proxies in front of Gapo whose X-Forwarded-For may be believed.
    trusted_proxies: int = 0
    job_workers: int = 4
    # Deliveries (instance/outbound/delivery_lane.py): POSTs in flight in all, and
    # connections per remote host (a host that answers fast also has more jobs claimed).
    delivery_concurrency: int = 100
    delivery_per_host: int = 2
    # Off by default; when on, lines carry no address, user agent or query (docs/privacy.md).
    access_log: bool = False
    run_jobs: bool = True
    # How often an idle runner looks at the queue when no wake-up came: the safety net for
    # a lost wake-up (instance/jobs/wakeup.py), not how jobs are normally found.
    job_poll_seconds: int = 1
    # How long a claimed job belongs to its runner: a runner that dies (kill -9, a machine
    # lost) holds its jobs this long before any other runner takes them again.
    job_lease_seconds: int = 300
    # Housekeeping (instance/jobs/housekeeping.py) deletes finished jobs and inbox records
    # older than this many days; expired sessions go as soon as they expire.
    retain_jobs_days: int = 7
    # Inbox records are also the dedupe by activity id: a remote server that retries a
    # delivery (Mastodon's schedule spans up to about 3.2 days) after its record is gone
    # would have the activity applied twice. Hence the floor of MIN_RETAIN_INBOX_DAYS.
    retain_inbox_days: int = 30
    # A deleted post's row (no text: its ids, addressees and deletion time) answers 410 and
    # keeps a late Create of a deleted remote post out; after this many days it goes.
    retain_tombstones_days: int = 30
    # Uploads (docs/configuration.md): Mastodon's defaults of 16 MB a photo and 99 MB a
    # video, enforced while the body streams in; per account, 30 uploads in 30 minutes.
    max_image_bytes: int = 16 * 1024 * 1024
    max_video_bytes: int = 99 * 1024 * 1024
    max_video_seconds: int = 600
    uploads_per_30min: int = 30
    # One archive per account per this many minutes: an archive walks every post and copies
    # every file, the heaviest thing a person can ask for.
    export_interval_minutes: int = 10
    # Video transcodes run as jobs, this many at once per process (one keeps a core free
    # for web requests on a 2-core machine: 10 s of 720p took ~4 s of both cores).
    transcode_workers: int = 1
    # Attachments of a remote post kept as media (shown through the proxy); the rest stay
    # links. The post writer stores at most 4 (Mastodon's limit) whatever this says.
    max_remote_attachments: int = 4
    # Cached copies of remote files not viewed for this many days are dropped (the row
    # stays; the file is fetched again when someone looks).
    remote_media_days: int = 30
    # Where media files live (docs/scale-out.md, "Object storage"): "local" (data_dir/media)
    # or "s3", an S3-compatible bucket (AWS S3, MinIO, Garage…) shared by every machine.
    media_storage: str = "local"
    s3_endpoint_url: str = ""  # empty: AWS S3 in s3_region
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    # Empty keys: botocore's own chain (AWS_* variables, an instance role).
    s3_access_key: str = ""
    s3_secret_key: str = ""
    # "path" (https://endpoint/bucket/key: MinIO, Garage) or "virtual" (bucket.endpoint).
    s3_addressing: str = "path"
    # How a reader gets a file: "proxy" (Gapo streams it: the reader's browser talks only to
    # Gapo, the private default), "public" (a redirect to s3_public_url/key) or "signed"
    # (a redirect to a presigned URL valid s3_signed_seconds).
    s3_serving: str = "proxy"
    s3_public_url: str = ""
    s3_signed_seconds: int = 3600
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.registrations not in REGISTRATION_MODES:
            raise ConfigError(
                f"GAPO_REGISTRATIONS must be one of {', '.join(REGISTRATION_MODES)}, "
                f"not {self.registrations!r}"
            )
        if self.sqlite_synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ConfigError("GAPO_SQLITE_SYNCHRONOUS must be FULL or NORMAL")
        if self.job_poll_seconds < 1:
            raise ConfigError("GAPO_JOB_POLL_SECONDS must be at least 1")
        if self.redis_timeout_ms < 10:
            raise ConfigError("GAPO_REDIS_TIMEOUT_MS must be at least 10")
        if self.job_lease_seconds < 5:
            raise ConfigError("GAPO_JOB_LEASE_SECONDS must be at least 5")
        if self.retain_jobs_days < 1:
            raise ConfigError("GAPO_RETAIN_JOBS_DAYS must be at least 1")
        if self.retain_inbox_days < MIN_RETAIN_INBOX_DAYS:
            raise ConfigError(
                f"GAPO_RETAIN_INBOX_DAYS must be at least {MIN_RETAIN_INBOX_DAYS}: inbox records"
                " also keep a redelivered activity from being applied twice"
            )
        if self.retain_tombstones_days < MIN_RETAIN_INBOX_DAYS:
            raise ConfigError(
                f"GAPO_RETAIN_TOMBSTONES_DAYS must be at least {MIN_RETAIN_INBOX_DAYS}: a Create"
                " retried after its Delete must still find the tombstone"
            )
        if not 0 <= self.max_remote_attachments <= 4:
            raise ConfigError("GAPO_MAX_REMOTE_ATTACHMENTS must be between 0 and 4")
        for name in (
            "body_timeout",
            "body_min_rate",
            "max_body_reads",
            "remote_media_days",
            "delivery_concurrency",
            "delivery_per_host",
            "database_pool_size",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"GAPO_{name.upper()} must be at least 1")
        _check_time_zone(self.default_time_zone)
        if self.redis_url and urlsplit(self.redis_url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError("GAPO_REDIS_URL must be a redis://, rediss:// or unix:// URL")
        _check_media_storage(self)
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ConfigError(
                f"GAPO_BASE_URL must be an origin like https://example.org, not {self.base_url!r}"
            )
        object.__setattr__(self, "base_url", f"{parts.scheme}://{parts.netloc.lower()}")
        onion = _onion_origin(self.onion_address)
        object.__setattr__(self, "onion_address", onion)
        alternates = _alternate_origins(parts.scheme, self.alternate_hosts)
        if onion and onion not in alternates:
            alternates.append(onion)
        object.__setattr__(self, "alternate_hosts", ",".join(alternates))
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if not self.database_url:
            db_path = (Path(self.data_dir) / "gapo.sqlite3").resolve()
            object.__setattr__(self, "database_url", f"sqlite:///{db_path}")

    @property
    def host(self) -> str:
        """The instance's host (with port when not default): the domain part of handles."""
        return urlsplit(self.base_url).netloc

    @property
    def origins(self) -> tuple[str, ...]:
        """Where this instance answers: the base URL, then the alternate hosts."""
        alternates = [o for o in self.alternate_hosts.split(",") if o]
        return tuple(dict.fromkeys([self.base_url, *alternates]))

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def sqlite_path(self) -> Path:
        if not self.database_url.startswith("sqlite:///"):
            raise ConfigError("only sqlite:/// database URLs are supported in this version")
        return Path(self.database_url.removeprefix("sqlite:///"))

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed (the original never changes once read)."""
        return replace(self, **changes)


def _coerce(name: str, kind: Any, value: Any) -> Any:
    kind_name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if "bool" in kind_name:
            return _as_bool(value)
        if "int" in kind_name:
            return int(value)
        if "Path" in kind_name:
            return Path(str(value))
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from exc
    return str(value) if "str" in kind_name else value


def load_settings(
    environ: Mapping[str, str] | None = None, toml_path: Path | None = None, **overrides: Any
) -> Settings:
    """Read settings: defaults, then the TOML file (GAPO_CONFIG), then env vars, then overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = toml_path or (Path(env["GAPO_CONFIG"]) if env.get("GAPO_CONFIG") else None)
    known = {f.name: f.type for f in fields(Settings) if f.name != "extra"}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        for key, value in data.items():
            if key not in known:
                raise ConfigError(f"unknown setting {key!r} in {path}")
            values[key] = _coerce(key, known[key], value)
    for name, kind in known.items():
        env_name = f"GAPO_{name.upper()}"
        if env_name in env:
            values[name] = _coerce(env_name, kind, env[env_name])
    for name, value in overrides.items():
        values[name] = value
    return Settings(**values)
