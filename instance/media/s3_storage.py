"""Media files in an S3-compatible bucket (AWS S3, MinIO, Garage…), through `aiobotocore`.

Every machine of an instance sees the same files, so web processes and workers can run
anywhere. The same keys as on the local disk, at the bucket's top level (so `gapo media
migrate --to s3` copies a key to the same key, and no row changes).

- Writes: a file up to `multipart_over` bytes is one PUT; a larger one (a transcoded video)
  goes up as a multipart upload, `part_size` bytes read from disk (in a thread) at a time,
  so memory holds one part, never the file; a failed upload is aborted, leaving no parts.
- Reads: `deliver` answers by the serving mode (`s3_serving`): `proxy` streams the object
  through Gapo (ranges passed on, so video seeking works; the reader's browser talks only
  to Gapo), `public` redirects to `s3_public_url/<key>`, `signed` to a presigned GET.
  The object carries its Content-Type, an inline Content-Disposition and the immutable
  Cache-Control, so what the store sends on a redirect is what Gapo would send.
- Failures: a store that is down, unreachable or refuses our credentials raises
  `StorageUnavailable` (503 with Retry-After), never an unnamed exception; a missing key is
  None, like a missing local file.

The client is made on first use in the running event loop (aiohttp's session belongs to
one loop) and closed with the services.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from instance.media.storage import (
    IMMUTABLE,
    Delivery,
    MediaUrls,
    Redirect,
    StorageUnavailable,
    Streamed,
    media_type_of,
    new_key,
    valid_key,
    valid_source,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

MIB = 1024 * 1024
# S3's floor for every part but the last is 5 MiB; 8 MiB parts keep a 99 MB video at 13.
PART_SIZE = 8 * MIB
MULTIPART_OVER = 16 * MIB
CHUNK = 64 * 1024
# A redirect to a public URL may be kept by the browser a day (the key never changes);
# one to a signed URL no longer than half of the signature's life.
PUBLIC_REDIRECT_AGE = 86400
# Uploads waiting for their transcode, beside the served keys (which never contain a "/").
SOURCES = "incoming/"
# Codes that mean "no such object" rather than "the store is broken".
MISSING = {"404", "NoSuchKey", "NotFound"}
RANGE_REFUSED = {"416", "InvalidRange"}


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    endpoint_url: str = ""
    region: str = "us-east-1"
    access_key: str = ""
    secret_key: str = ""
    addressing: str = "path"
    serving: str = "proxy"
    public_url: str = ""
    signed_seconds: int = 3600


class S3Storage(MediaUrls):
    """The `MediaStorage` protocol over one bucket."""

    def __init__(
        self,
        config: S3Settings,
        base_url: str,
        work_dir: Path,
        *,
        part_size: int = PART_SIZE,
        multipart_over: int = MULTIPART_OVER,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url)
        self.config = config
        self.work_dir = work_dir
        self.part_size = part_size
        self.multipart_over = multipart_over
        self.timeout = timeout
        self._client: Any = None
        self._client_context: Any = None
        self._lock = asyncio.Lock()

    # --- the client ---

    async def _s3(self) -> Any:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                # Imported here: a local-storage instance never loads botocore (~0.3 s).
                from aiobotocore.config import AioConfig
                from aiobotocore.session import get_session

                cfg = self.config
                config = AioConfig(
                    signature_version="s3v4",
                    s3={"addressing_style": cfg.addressing},
                    connect_timeout=self.timeout,
                    read_timeout=max(self.timeout, 60.0),
                    retries={"max_attempts": 2, "mode": "standard"},
                    # botocore ≥ 1.36 adds CRC checksums to every PUT by default, which
                    # several S3-compatible stores refuse; send them only where S3 needs one.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                )
                context = get_session().create_client(
                    "s3",
                    region_name=cfg.region or None,
                    endpoint_url=cfg.endpoint_url or None,
                    aws_access_key_id=cfg.access_key or None,
                    aws_secret_access_key=cfg.secret_key or None,
                    config=config,
                )
                self._client = await context.__aenter__()
                self._client_context = context
        return self._client

    async def close(self) -> None:
        if self._client_context is not None:
            context, self._client_context, self._client = self._client_context, None, None
            await context.__aexit__(None, None, None)

    async def _call(self, what: str, call: Callable[[Any], Awaitable[T]]) -> T:
        """One request to the store, its transport failures named `StorageUnavailable`."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await call(await self._s3())
        except ClientError as exc:
            if _code(exc) in MISSING | RANGE_REFUSED:
                raise
            log.warning("media store refused %s: %s", what, _code(exc))
            raise StorageUnavailable(f"{what}: {_code(exc)}") from exc
        except (TimeoutError, BotoCoreError, OSError) as exc:
            log.warning("media store unreachable for %s: %s", what, type(exc).__name__)
            raise StorageUnavailable(f"{what}: {type(exc).__name__}") from exc
        except Exception as exc:
            # aiohttp's own errors (a connection reset mid-body) are not BotoCoreErrors.
            if type(exc).__module__.startswith("aiohttp"):
                raise StorageUnavailable(f"{what}: {type(exc).__name__}") from exc
            raise

    def _object_headers(self, key: str) -> dict[str, str]:
        if key.startswith(SOURCES):
            return {"ContentType": "application/octet-stream"}
        return {
            "ContentType": media_type_of(key),
            "CacheControl": IMMUTABLE,
            "ContentDisposition": f'inline; filename="{key}"',
        }

    # --- writes ---

    async def save(self, data: bytes, ext: str) -> str:
        key = new_key(ext)
        bucket = self.config.bucket
        await self._call(
            "put",
            lambda s3: s3.put_object(
                Bucket=bucket, Key=key, Body=data, **self._object_headers(key)
            ),
        )
        return key

    def scratch(self) -> Path:
        """A local work file (a download being made); `save_file` uploads and removes it."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        return self.work_dir / secrets.token_urlsafe(18)

    async def save_file(self, source: Path, ext: str) -> str:
        key = new_key(ext)
        await self.put_file(key, source)
        await asyncio.to_thread(source.unlink, True)
        return key

    async def put_file(self, key: str, source: Path) -> None:
        """Upload a local file under `key`, leaving the file where it is (migration uses it)."""
        size = await asyncio.to_thread(os.path.getsize, source)
        if size <= self.multipart_over:
            data = await asyncio.to_thread(source.read_bytes)
            bucket = self.config.bucket
            await self._call(
                "put",
                lambda s3: s3.put_object(
                    Bucket=bucket, Key=key, Body=data, **self._object_headers(key)
                ),
            )
            return
        await self._multipart(key, source)

    async def _multipart(self, key: str, source: Path) -> None:
        bucket = self.config.bucket
        started = await self._call(
            "multipart start",
            lambda s3: s3.create_multipart_upload(
                Bucket=bucket, Key=key, **self._object_headers(key)
            ),
        )
        upload_id = started["UploadId"]
        parts: list[dict[str, Any]] = []
        try:
            handle = await asyncio.to_thread(source.open, "rb")
            try:
                number = 1
                while chunk := await asyncio.to_thread(handle.read, self.part_size):
                    answer = await self._call(
                        "multipart part",
                        partial(_upload_part, bucket, key, upload_id, number, chunk),
                    )
                    parts.append({"ETag": answer["ETag"], "PartNumber": number})
                    number += 1
            finally:
                await asyncio.to_thread(handle.close)
            await self._call(
                "multipart complete",
                lambda s3: s3.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                ),
            )
        except BaseException:
            # Parts of an upload never completed are billed and invisible: abort them.
            with contextlib.suppress(Exception):
                await self._call(
                    "multipart abort",
                    lambda s3: s3.abort_multipart_upload(
                        Bucket=bucket, Key=key, UploadId=upload_id
                    ),
                )
            raise

    async def delete(self, key: str) -> None:
        if valid_key(key):
            await self._delete(key)

    async def _delete(self, key: str) -> None:
        bucket = self.config.bucket
        # S3 answers 204 for a key that is not there: deleting twice is fine.
        await self._call("delete", lambda s3: s3.delete_object(Bucket=bucket, Key=key))

    # --- uploads waiting for their transcode, so any worker on any machine can run it ---

    async def keep_source(self, path: Path, name: str) -> None:
        if not valid_source(name):
            raise ValueError(f"not a source name: {name!r}")
        await self.put_file(SOURCES + name, path)
        await asyncio.to_thread(path.unlink, True)

    def source(self, name: str) -> AbstractAsyncContextManager[Path | None]:
        @asynccontextmanager
        async def downloaded() -> AsyncIterator[Path | None]:
            path = self.scratch()
            try:
                found = valid_source(name) and await self._download(SOURCES + name, path)
                yield path if found else None
            finally:
                await asyncio.to_thread(path.unlink, True)

        return downloaded()

    async def drop_source(self, name: str) -> None:
        if valid_source(name):
            await self._delete(SOURCES + name)

    # --- reads ---

    async def size(self, key: str) -> int | None:
        if not _ours(key):
            return None
        from botocore.exceptions import ClientError

        bucket = self.config.bucket
        try:
            head = await self._call("head", lambda s3: s3.head_object(Bucket=bucket, Key=key))
        except ClientError:
            return None
        return int(head["ContentLength"])

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    async def sizes(self) -> dict[str, int]:
        """Every stored key with its size (one listing, 1,000 keys a request)."""
        found: dict[str, int] = {}

        async def listing(s3: Any) -> None:
            async for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.config.bucket
            ):
                for item in page.get("Contents", []):
                    found[item["Key"]] = int(item["Size"])

        await self._call("list", listing)
        return found

    async def usage(self) -> tuple[int, int]:
        sizes = await self.sizes()
        return sum(sizes.values()), len(sizes)

    def local_copy(self, key: str) -> AbstractAsyncContextManager[Path | None]:
        @asynccontextmanager
        async def downloaded() -> AsyncIterator[Path | None]:
            path = self.scratch()
            try:
                yield path if await self._download(key, path) else None
            finally:
                await asyncio.to_thread(path.unlink, True)

        return downloaded()

    async def _download(self, key: str, dest: Path) -> bool:
        if not _ours(key):
            return False
        from botocore.exceptions import ClientError

        bucket = self.config.bucket

        async def fetch(s3: Any) -> None:
            answer = await s3.get_object(Bucket=bucket, Key=key)
            handle = await asyncio.to_thread(dest.open, "wb")
            try:
                async with answer["Body"] as body:
                    while chunk := await body.read(CHUNK * 16):
                        await asyncio.to_thread(handle.write, chunk)
            finally:
                await asyncio.to_thread(handle.close)

        try:
            await self._call("get", fetch)
        except ClientError:
            return False
        return True

    async def deliver(self, key: str, byte_range: str | None = None) -> Delivery | None:
        if not valid_key(key):
            return None
        cfg = self.config
        if cfg.serving == "public":
            return Redirect(f"{cfg.public_url}/{key}", PUBLIC_REDIRECT_AGE)
        if cfg.serving == "signed":
            url = await self._call(
                "sign",
                lambda s3: s3.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": cfg.bucket, "Key": key},
                    ExpiresIn=cfg.signed_seconds,
                ),
            )
            return Redirect(str(url), cfg.signed_seconds // 2)
        return await self._stream(key, byte_range)

    async def _stream(self, key: str, byte_range: str | None) -> Streamed | None:
        from botocore.exceptions import ClientError

        bucket = self.config.bucket
        extra = {"Range": byte_range} if byte_range and _one_range(byte_range) else {}
        try:
            answer = await self._call(
                "get", lambda s3: s3.get_object(Bucket=bucket, Key=key, **extra)
            )
        except ClientError as exc:
            if _code(exc) in RANGE_REFUSED:
                # A server may ignore a Range it cannot meet: send the whole file instead.
                return await self._stream(key, None)
            return None
        content_range = answer.get("ContentRange")
        body = answer["Body"]

        async def release() -> None:
            async with body:
                pass

        return Streamed(
            status=206 if content_range else 200,
            length=int(answer["ContentLength"]),
            content_range=content_range,
            chunks=self._chunks(body),
            release=release,
        )

    async def _chunks(self, body: Any) -> AsyncIterator[bytes]:
        # Closed however the response ends (a reader who leaves mid-video included), so
        # the store's connection goes back to the pool.
        async with body:
            while chunk := await body.read(CHUNK):
                yield chunk


async def _upload_part(
    bucket: str, key: str, upload_id: str, number: int, body: bytes, s3: Any
) -> Any:
    return await s3.upload_part(
        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
    )


def _ours(key: str) -> bool:
    """A key Gapo writes: a stored file, or a source under `incoming/`."""
    return valid_key(key) or (key.startswith(SOURCES) and valid_source(key.removeprefix(SOURCES)))


def _code(exc: Exception) -> str:
    error = getattr(exc, "response", {}).get("Error", {})
    return str(error.get("Code", ""))


def _one_range(value: str) -> bool:
    """A single `bytes=a-b` range: what browsers send to seek; anything else is dropped."""
    unit, _, spec = value.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return False
    start, dash, end = spec.strip().partition("-")
    return (
        dash == "-"
        and (start.isdigit() or end.isdigit())
        and all(not part or part.isdigit() for part in (start, end))
    )
