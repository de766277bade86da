"""`open_storage(settings)`: the one place that picks where media files live."""

from __future__ import annotations

from urllib.parse import urlsplit

from instance.config import Settings
from instance.media.s3_storage import S3Settings, S3Storage
from instance.media.storage import LocalStorage, MediaStorage


def s3_settings(settings: Settings) -> S3Settings:
    return S3Settings(
        bucket=settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        addressing=settings.s3_addressing,
        serving=settings.s3_serving,
        public_url=settings.s3_public_url,
        signed_seconds=settings.s3_signed_seconds,
    )


def s3_storage(settings: Settings) -> S3Storage:
    """The bucket the settings name (also for `gapo media migrate` while still local)."""
    if not settings.s3_bucket:
        raise ValueError("GAPO_S3_BUCKET is not set")
    # Work files (downloads being checked, export copies) stay on this machine's disk.
    return S3Storage(s3_settings(settings), settings.base_url, settings.data_dir / "tmp" / "s3")


def local_storage(settings: Settings) -> LocalStorage:
    return LocalStorage(
        settings.data_dir / "media", settings.base_url, settings.data_dir / "media-incoming"
    )


def reader_origins(settings: Settings) -> tuple[str, ...]:
    """Origins a reader's browser is sent to for media besides Gapo's own: none unless the
    admin chose to serve the bucket by redirect (the pages' CSP must then allow them)."""
    if settings.media_storage != "s3" or settings.s3_serving == "proxy":
        return ()
    url = settings.s3_public_url if settings.s3_serving == "public" else settings.s3_endpoint_url
    if not url:
        # AWS's endpoints for the region: s3.<region>.amazonaws.com, <bucket>.s3.… .
        return ("https://*.amazonaws.com",)
    parts = urlsplit(url)
    host = parts.netloc
    if settings.s3_serving == "signed" and settings.s3_addressing == "virtual":
        host = f"{settings.s3_bucket}.{host}"
    return (f"{parts.scheme}://{host}",)


def open_storage(settings: Settings) -> MediaStorage:
    if settings.media_storage == "s3":
        return s3_storage(settings)
    return local_storage(settings)
