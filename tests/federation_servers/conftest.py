"""Fixtures: real Gapo instances (two of them, or one beside bovine) on loopback, started
once per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.federation_bovine.bovine_harness import BovinePeer, free_port
from tests.helpers.instances import GapoInstance


@pytest.fixture(scope="module")
def federation_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("federation")


@pytest.fixture(scope="module")
def instances(federation_root: Path) -> Iterator[tuple[GapoInstance, GapoInstance]]:
    one = GapoInstance("one", federation_root).start()
    two = GapoInstance("two", federation_root).start()
    try:
        yield one, two
    finally:
        one.stop()
        two.stop()


def _module_name(request: pytest.FixtureRequest) -> str:
    """`test_bovine_media` → `bovine-media`: names the logs and data dirs of a module's peers."""
    return request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")


@pytest.fixture(scope="module")
def gapo(federation_root: Path, request: pytest.FixtureRequest) -> Iterator[GapoInstance]:
    """The Gapo instance a bovine test module talks to."""
    instance = GapoInstance(f"gapo-{_module_name(request)}", federation_root).start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="module")
def peer(federation_root: Path, request: pytest.FixtureRequest) -> Iterator[BovinePeer]:
    """bovine, in its own venv and process, with one actor `moo`."""
    bovine = BovinePeer.start(free_port(), "moo", federation_root / _module_name(request))
    try:
        yield bovine
    finally:
        bovine.stop()
