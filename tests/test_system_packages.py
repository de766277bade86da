"""`make test` provides the system programs its tests need (scripts/system-packages.sh).

The script is run for real with stand-ins only for what would change this machine: `id`
(to play an unprivileged user when the suite runs as root) and `apt-get` (which records
what it was asked instead of installing). A fresh clone with no Chromium exercises the real
`apt-get` path: CI does exactly that on every run.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.helpers.processes import ROOT

SCRIPT = ROOT / "scripts" / "system-packages.sh"


def _stand_in(bin_dir: Path, name: str, body: str) -> Path:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _run(tmp_path: Path, needs: str, *, uid: int) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    _stand_in(bin_dir, "id", f"echo {uid}\n")
    log = tmp_path / "apt.log"
    # The stand-in "installs" a package by creating the command it provides.
    _stand_in(
        bin_dir,
        "fake-apt-get",
        f'echo "$@" >> {log}\n'
        f'if [ "$1" = install ]; then for p in "$@"; do : > {tmp_path}/"$p" ; done; fi\n',
    )
    env = {
        "PATH": str(bin_dir),
        "GAPO_SYSTEM_PACKAGES": needs,
        "GAPO_APT_GET": "fake-apt-get",
        "HOME": str(tmp_path),
    }
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=30, check=False
    )


def test_nothing_happens_when_every_program_is_there(tmp_path: Path) -> None:
    result = _run(tmp_path, "shell:/bin/sh", uid=1000)
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""
    assert not (tmp_path / "apt.log").exists()


def test_any_candidate_meets_a_need(tmp_path: Path) -> None:
    result = _run(tmp_path, f"chromium:{tmp_path}/nowhere:/bin/sh", uid=1000)
    assert result.returncode == 0, result.stderr


def test_unprivileged_user_is_told_the_one_command(tmp_path: Path) -> None:
    result = _run(tmp_path, f"chromium:{tmp_path}/no-chromium", uid=1000)
    assert result.returncode == 1
    assert "sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium" in (
        result.stderr
    )
    assert not (tmp_path / "apt.log").exists()


def test_root_installs_after_updating_the_package_lists(tmp_path: Path) -> None:
    needs = f"chromium:{tmp_path}/chromium redis-server:{tmp_path}/redis-server"
    result = _run(tmp_path, needs, uid=0)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "apt.log").read_text().splitlines()
    assert calls[0].startswith("update")
    assert calls[1].startswith("install -y")
    assert calls[1].split()[-2:] == ["chromium", "redis-server"]
    assert len(calls) == 2


def test_make_test_runs_the_script_before_pytest() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    result = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, env=env, check=True
    )
    lines = result.stdout.splitlines()
    script = next(i for i, line in enumerate(lines) if "scripts/system-packages.sh" in line)
    pytest_run = next(i for i, line in enumerate(lines) if "pytest" in line)
    assert script < pytest_run
