"""Fixtures: two real Gapo instances on loopback, started once per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
