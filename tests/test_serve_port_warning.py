"""`gapo serve` warns when GAPO_BASE_URL names another port than the one it binds."""

from __future__ import annotations

from pathlib import Path

from instance.serve import port_mismatch
from tests.helpers.web import make_settings


def test_warns_when_ports_differ_without_a_proxy(tmp_path: Path) -> None:
    """`make run PORT=8001` with the default base URL used to link to :8000."""
    settings = make_settings(tmp_path / "data", base_url="http://localhost:8000")
    warning = port_mismatch(settings, 8001)
    assert warning is not None
    assert "8000" in warning and "8001" in warning and "GAPO_BASE_URL" in warning


def test_silent_when_ports_match_or_a_proxy_is_set(tmp_path: Path) -> None:
    """Same port, the scheme's default port, or a reverse proxy in front: nothing to say."""
    data = tmp_path / "data"
    assert port_mismatch(make_settings(data, base_url="http://localhost:8001"), 8001) is None
    assert port_mismatch(make_settings(data, base_url="http://example.org"), 80) is None
    behind_proxy = make_settings(data, base_url="https://social.example.org", trusted_proxies=1)
    assert port_mismatch(behind_proxy, 8000) is None
    assert port_mismatch(make_settings(data, base_url="https://social.example.org"), 8000)
