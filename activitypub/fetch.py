"""Outgoing HTTP for federation: signed GETs and POSTs with every safety bound.

One ``Fetcher`` per process holds one aiohttp session, so keep-alive
connections are reused per host. Every request is bounded: connect, read and
total time, body size, redirect count; every hop is re-checked against the
address guard (``activitypub.ssrf``) and re-signed, since the URL changed. A
fetched ActivityPub document must carry an ``id`` on the origin of the final
URL (FEP-fe34), or anyone able to host a file could speak for another server.
Signing is the caller's business: it passes a ``SignFn``.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import inspect
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from activitypub.ssrf import BlockedAddress, FetchError, GuardedResolver, check_ip_literal
from activitypub.vocab import AS_CONTEXT, origin_of

__all__ = [
    "AP_ACCEPT",
    "AP_CONTENT_TYPE",
    "JRD_ACCEPT",
    "BadContentType",
    "BlockedAddress",
    "FetchError",
    "FetchTimeout",
    "Fetcher",
    "HttpStatusError",
    "InvalidDocument",
    "InvalidUrl",
    "OriginMismatch",
    "ResponseTooLarge",
    "SignFn",
    "TooManyRedirects",
    "is_activitypub_content_type",
]

AP_CONTENT_TYPE = "application/activity+json"
# The ActivityStreams profile of application/ld+json is the AS context URI itself.
AS_PROFILE = AS_CONTEXT
AP_ACCEPT = f'application/activity+json, application/ld+json; profile="{AS_PROFILE}"'
JRD_ACCEPT = "application/jrd+json, application/json"
XRD_ACCEPT = "application/xrd+xml, application/xml, text/xml"

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_POST_BODY_PREVIEW = 2048

_T = TypeVar("_T")

# (method, url, headers, body) -> the headers to send; may be sync or async.
SignFn = Callable[
    [str, str, dict[str, str], bytes | None], Awaitable[dict[str, str]] | dict[str, str]
]


class FetchTimeout(FetchError):
    """Connecting, reading or the whole exchange took too long."""


class ResponseTooLarge(FetchError):
    """The body exceeded the size cap."""


class BadContentType(FetchError):
    """The response was not of a content type we accept for this fetch."""


class OriginMismatch(FetchError):
    """The document's ``id`` is not on the origin it was served from."""


class TooManyRedirects(FetchError):
    """More redirects than allowed."""


class HttpStatusError(FetchError):
    """A non-2xx answer; ``retry_after`` in seconds when the server gave one."""

    def __init__(self, reason: str, status: int, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


class InvalidUrl(FetchError):
    """Not an absolute http(s) URL with a host."""


class InvalidDocument(FetchError):
    """The body is not the JSON object we asked for."""


def _media_type(value: str) -> tuple[str, dict[str, str]]:
    """Split a Content-Type into its lower-cased type and its parameters."""
    parts = value.split(";")
    params: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, val = part.partition("=")
        if sep:
            params[key.strip().lower()] = val.strip().strip('"')
    return parts[0].strip().lower(), params


def is_activitypub_content_type(value: str) -> bool:
    """True for the content types ActivityPub documents are served with.

    ``application/ld+json`` without a profile is accepted because several
    servers send it that way; with a profile, it must name ActivityStreams
    (the profile parameter may list several URIs, separated by spaces).
    """
    media, params = _media_type(value)
    if media == AP_CONTENT_TYPE:
        return True
    if media == "application/ld+json":
        profile = params.get("profile")
        return profile is None or AS_PROFILE in profile.split()
    return False


def _is_jrd_content_type(value: str) -> bool:
    media, _ = _media_type(value)
    return media in {"application/jrd+json", "application/json"}


def parse_retry_after(value: str | None, now: float | None = None) -> int | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0, int(when.timestamp() - current))


class Fetcher:
    """The federation HTTP client. Create once, ``await close()`` at shutdown."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        user_agent: str = "Gapo",
        connect_timeout: float = 5,
        read_timeout: float = 10,
        total_timeout: float = 30,
        max_bytes: int = 1_048_576,
        max_redirects: int = 3,
        limit_per_host: int = 8,
    ) -> None:
        self.allow_private = allow_private
        self.user_agent = user_agent
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.limit_per_host = limit_per_host
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        # Created lazily: a ClientSession must be born inside the running loop.
        if self._session is None or self._session.closed:
            resolver = None if self.allow_private else GuardedResolver()
            connector = aiohttp.TCPConnector(resolver=resolver, limit_per_host=self.limit_per_host)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=self.total_timeout,
                    sock_connect=self.connect_timeout,
                    sock_read=self.read_timeout,
                ),
                # Proxies from the environment would bypass the address guard.
                trust_env=False,
                # Cookies from one remote server must not ride along to another.
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=True,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- public operations -------------------------------------------------

    async def get_json(
        self,
        url: str,
        *,
        sign: SignFn | None = None,
        accept: str = AP_ACCEPT,
        check_id: bool = True,
    ) -> tuple[str, dict[str, Any]]:
        """GET an ActivityPub document; returns (final URL, document)."""
        final_url, body, _ = await self._bounded(
            self._get(url, accept=accept, sign=sign, content_ok=is_activitypub_content_type)
        )
        doc = _parse_json_object(body)
        if check_id:
            doc_id = doc.get("id")
            if not isinstance(doc_id, str) or not doc_id:
                raise InvalidDocument("document has no id")
            try:
                same = origin_of(doc_id) == origin_of(final_url)
            except ValueError:
                same = False
            if not same:
                raise OriginMismatch(f"document id {doc_id} is not on the origin of {final_url}")
        return final_url, doc

    async def get_jrd(self, url: str) -> dict[str, Any]:
        """GET a WebFinger JRD (unsigned, redirects followed, no id check)."""
        _, body, _ = await self._bounded(
            self._get(url, accept=JRD_ACCEPT, sign=None, content_ok=_is_jrd_content_type)
        )
        return _parse_json_object(body)

    async def post(
        self,
        url: str,
        body: bytes,
        *,
        sign: SignFn | None,
        content_type: str = AP_CONTENT_TYPE,
    ) -> tuple[int, str]:
        """POST ``body``; returns (status, the first 2 KB of the answer as text).

        Redirects are not followed: re-posting a signed activity elsewhere is
        never what the sender meant. Statuses are returned, not raised, so the
        delivery code decides what is final and what is retried.
        """
        return await self._bounded(self._post(url, body, sign=sign, content_type=content_type))

    def post_headers(self, content_type: str = AP_CONTENT_TYPE) -> dict[str, str]:
        """The headers of a POST before signing: what a caller signing ahead must cover."""
        return {"Content-Type": content_type, "Accept": AP_ACCEPT, "User-Agent": self.user_agent}

    async def download(
        self,
        url: str,
        dest: Path,
        *,
        max_bytes: int,
        accept: str = "*/*",
        total_timeout: float | None = None,
    ) -> str:
        """GET a file into ``dest`` (unsigned: media are public); returns its Content-Type.

        The same guards as every fetch (address guard on every hop, bounded redirects,
        connect and read timeouts), a byte cap counted while streaming, and a whole-exchange
        timeout (``total_timeout``, the fetcher's own by default; a 99 MB video needs more
        than a document). On any failure ``dest`` is removed: no partial file stays behind.
        """
        try:
            return await self._bounded(
                self._download(url, dest, max_bytes=max_bytes, accept=accept),
                seconds=total_timeout,
            )
        except BaseException:
            # Synchronously, even when cancelled: an unlink is one quick syscall.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(dest)
            raise

    # -- internals ------------------------------------------------------------

    async def _bounded(self, operation: Awaitable[_T], *, seconds: float | None = None) -> _T:
        """Run one whole operation (all hops) under the total timeout, mapping errors."""
        try:
            async with asyncio.timeout(seconds or self.total_timeout):
                return await operation
        except FetchError:
            raise
        except TimeoutError as exc:
            raise FetchTimeout("timed out") from exc
        except aiohttp.ClientConnectorDNSError as exc:
            raise FetchError(f"cannot resolve host: {exc.os_error}") from exc
        except aiohttp.InvalidURL as exc:
            raise InvalidUrl(f"invalid URL: {exc}") from exc
        except aiohttp.ClientPayloadError as exc:
            raise FetchError(f"broken response body: {exc}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise FetchError(f"network error: {type(exc).__name__}: {exc}") from exc

    def _check_url(self, url: URL) -> None:
        if url.scheme not in ("http", "https"):
            raise InvalidUrl(f"scheme {url.scheme!r} is not allowed")
        if not url.host:
            raise InvalidUrl("URL has no host")
        if url.user is not None or url.password is not None:
            raise InvalidUrl("URL must not carry credentials")
        if not self.allow_private:
            check_ip_literal(url.host)

    async def _headers(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        sign: SignFn | None,
    ) -> dict[str, str]:
        if sign is None:
            return headers
        signed = sign(method, url, dict(headers), body)
        if inspect.isawaitable(signed):
            return await signed
        return signed

    async def _download(self, url: str, dest: Path, *, max_bytes: int, accept: str) -> str:
        async with self._open(url, accept=accept, sign=None) as (_, resp):
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise ResponseTooLarge(f"declared body of {resp.content_length} bytes is too large")
            written = 0
            # Blocking writes of 64 kB chunks: each is a page-cache copy of microseconds,
            # cheaper than a thread hop per chunk.
            with dest.open("wb") as fh:
                async for chunk in resp.content.iter_chunked(65536):
                    written += len(chunk)
                    if written > max_bytes:
                        raise ResponseTooLarge(f"body exceeds {max_bytes} bytes")
                    fh.write(chunk)
            return resp.headers.get("Content-Type", "")

    @contextlib.asynccontextmanager
    async def _open(
        self, url: str, *, accept: str, sign: SignFn | None
    ) -> AsyncIterator[tuple[str, aiohttp.ClientResponse]]:
        """The 2xx response of a GET after following redirects (each hop re-checked)."""
        session = self._get_session()
        try:
            current = URL(url)
        except (TypeError, ValueError) as exc:
            raise InvalidUrl(f"invalid URL: {url!r}") from exc
        redirects = 0
        while True:
            self._check_url(current)
            # Fragments never go on the wire, and signing them would not verify.
            current = current.with_fragment(None)
            base = {"Accept": accept, "User-Agent": self.user_agent}
            headers = await self._headers("GET", str(current), base, None, sign)
            async with session.get(current, headers=headers, allow_redirects=False) as resp:
                if resp.status in _REDIRECT_STATUSES:
                    location = resp.headers.get("Location")
                    if not location:
                        raise HttpStatusError(
                            f"redirect {resp.status} without Location", resp.status
                        )
                    redirects += 1
                    if redirects > self.max_redirects:
                        raise TooManyRedirects(f"more than {self.max_redirects} redirects")
                    try:
                        current = current.join(URL(location))
                    except (TypeError, ValueError) as exc:
                        raise InvalidUrl(f"bad redirect Location {location!r}") from exc
                    continue
                if not 200 <= resp.status < 300:
                    raise HttpStatusError(
                        f"HTTP {resp.status} from {current}",
                        resp.status,
                        parse_retry_after(resp.headers.get("Retry-After")),
                    )
                try:
                    yield str(current), resp
                except BaseException:
                    resp.close()  # drop the connection rather than drain the rest
                    raise
                return

    async def _get(
        self,
        url: str,
        *,
        accept: str,
        sign: SignFn | None,
        content_ok: Callable[[str], bool] | None,
    ) -> tuple[str, bytes, str]:
        async with self._open(url, accept=accept, sign=sign) as (final, resp):
            content_type = resp.headers.get("Content-Type", "")
            if content_ok is not None and not content_ok(content_type):
                # `_open` drops the connection: a body we will not use is never downloaded.
                raise BadContentType(f"unexpected content type {content_type!r}")
            body = await self._read_capped(resp, self.max_bytes)
            return final, body, content_type

    async def _read_capped(self, resp: aiohttp.ClientResponse, limit: int) -> bytes:
        """Read the body while streaming, stopping as soon as it exceeds ``limit``."""
        if resp.content_length is not None and resp.content_length > limit:
            resp.close()
            raise ResponseTooLarge(f"declared body of {resp.content_length} bytes is too large")
        buffer = bytearray()
        # Counted after decompression, so a small gzip bomb is caught too.
        async for chunk in resp.content.iter_chunked(65536):
            buffer += chunk
            if len(buffer) > limit:
                resp.close()  # drop the connection rather than drain the rest
                raise ResponseTooLarge(f"body exceeds {limit} bytes")
        return bytes(buffer)

    async def _post(
        self, url: str, body: bytes, *, sign: SignFn | None, content_type: str
    ) -> tuple[int, str]:
        session = self._get_session()
        try:
            target = URL(url)
        except (TypeError, ValueError) as exc:
            raise InvalidUrl(f"invalid URL: {url!r}") from exc
        self._check_url(target)
        target = target.with_fragment(None)
        headers = await self._headers(
            "POST", str(target), self.post_headers(content_type), body, sign
        )
        async with session.post(target, data=body, headers=headers, allow_redirects=False) as resp:
            preview = bytearray()
            while len(preview) < _POST_BODY_PREVIEW:
                chunk = await resp.content.read(_POST_BODY_PREVIEW - len(preview))
                if not chunk:
                    break
                preview += chunk
            # An unread remainder makes aiohttp close rather than reuse the
            # connection; inbox answers are nearly always tiny, so that is rare.
            try:
                text = bytes(preview).decode(resp.charset or "utf-8", errors="replace")
            except LookupError:
                text = bytes(preview).decode("utf-8", errors="replace")
            return resp.status, text


def _parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidDocument(f"body is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidDocument("JSON body is not an object")
    return doc
