"""`gapo media prune` as a real subprocess: it runs on a fresh instance and says what it did."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.processes import gapo


def test_media_prune_runs_and_reports(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert gapo(data, "migrate").returncode == 0
    result = gapo(data, "media", "prune", "--days", "0")
    assert result.returncode == 0, result.stderr
    assert "0 cached remote file(s) not viewed for 0 day(s) deleted." in result.stdout
    default = gapo(data, "media", "prune")
    assert default.returncode == 0 and "for 30 day(s)" in default.stdout
    refused = gapo(data, "media", "prune", "--days", "-1")
    assert refused.returncode != 0
