"""A real S3-compatible server for tests: moto's standalone server as a child process.

`S3Server.start()` runs `python -m moto.server` on a free loopback port and waits until it
answers; `stop()` ends it. `Bucket` is a small client of our own (aiobotocore, the same
library Gapo uses, but none of Gapo's code) for what a test checks in the store.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from tests.helpers.processes import free_port

ACCESS_KEY = "testing-key"
SECRET_KEY = "testing-secret"
REGION = "us-east-1"


@dataclass
class S3Server:
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, seconds: float = 30) -> S3Server:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"moto.server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise AssertionError("moto.server did not answer in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def settings(self, bucket: str, **extra: Any) -> dict[str, Any]:
        """The Gapo settings that put media in `bucket` on this server."""
        return {
            "media_storage": "s3",
            "s3_endpoint_url": self.endpoint,
            "s3_bucket": bucket,
            "s3_region": REGION,
            "s3_access_key": ACCESS_KEY,
            "s3_secret_key": SECRET_KEY,
            **extra,
        }

    def env(self, bucket: str) -> dict[str, str]:
        """The same, as the environment of a `gapo` process (media storage left local)."""
        return {
            "GAPO_S3_ENDPOINT_URL": self.endpoint,
            "GAPO_S3_BUCKET": bucket,
            "GAPO_S3_REGION": REGION,
            "GAPO_S3_ACCESS_KEY": ACCESS_KEY,
            "GAPO_S3_SECRET_KEY": SECRET_KEY,
        }


class Bucket:
    """One bucket of the test server, looked at from outside Gapo."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    async def keys(self) -> dict[str, int]:
        answer = await self.client.list_objects_v2(Bucket=self.name)
        return {item["Key"]: int(item["Size"]) for item in answer.get("Contents", [])}

    async def get(self, key: str) -> bytes:
        answer = await self.client.get_object(Bucket=self.name, Key=key)
        async with answer["Body"] as body:
            return bytes(await body.read())

    async def head(self, key: str) -> dict[str, Any]:
        return dict(await self.client.head_object(Bucket=self.name, Key=key))

    async def make_public(self) -> None:
        """Anyone may GET its objects: what docs/scale-out.md tells the admin for `public`."""
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{self.name}/*",
                }
            ],
        }
        await self.client.put_bucket_policy(Bucket=self.name, Policy=json.dumps(policy))

    async def put(self, key: str, data: bytes) -> None:
        await self.client.put_object(Bucket=self.name, Key=key, Body=data)


@asynccontextmanager
async def new_bucket(server: S3Server) -> AsyncIterator[Bucket]:
    """A fresh, empty bucket with a random name on `server`."""
    from aiobotocore.session import get_session

    name = f"gapo-test-{secrets.token_hex(6)}"
    async with get_session().create_client(
        "s3",
        region_name=REGION,
        endpoint_url=server.endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    ) as client:
        await client.create_bucket(Bucket=name)
        yield Bucket(client, name)
