"""The wheel `pip install .` builds carries everything the server reads at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_templates_static_locales_and_migrations(tmp_path: Path) -> None:
    build = ["wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir"]
    subprocess.run(
        [sys.executable, "-m", "pip", *build, str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("gapo-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for wanted in (
        "instance/templates/base.html",
        "instance/templates/_compose.html",
        "instance/static/style.css",
        "instance/static/app.js",
        "instance/locale/vi/LC_MESSAGES/messages.po",
        "instance/db/migrations/0001_foundation.sql",
        "activitypub/signatures.py",
        "webfinger/server.py",
    ):
        assert wanted in names, wanted
    migrations = {n for n in names if n.startswith("instance/db/migrations/")}
    # PostgreSQL's own versions (migrations/postgresql/) ship too.
    in_tree = {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "instance/db/migrations").rglob("*.sql")
    }
    assert "instance/db/migrations/postgresql/0011_search.sql" in in_tree
    assert in_tree <= migrations
    templates = {f"instance/templates/{p.name}" for p in (ROOT / "templates").glob("*.html")}
    assert templates <= names
