"""The `gapo` command run as a real subprocess: migrate, user and invite admin, serve."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.processes import GAPO, free_port, gapo, gapo_env, running_server
from tests.helpers.web import AppFactory, post_form, signup

PASSWORD = "a good long passphrase"


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    ok(gapo(path, "migrate"))
    return path


def users_table(data_dir: Path) -> dict[str, list[str]]:
    lines = ok(gapo(data_dir, "user", "list")).splitlines()
    assert lines[0].split() == ["username", "email", "role", "state"]
    return {line.split()[0]: line.split()[1:] for line in lines[1:]}


def test_console_script_is_installed() -> None:
    """The `gapo` console script exists beside the interpreter and shows its commands."""
    assert GAPO.exists()
    out = subprocess.run(
        [str(GAPO), "--help"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    for command in ("serve", "migrate", "user", "invite"):
        assert command in out


def test_migrate_twice(tmp_path: Path) -> None:
    """`gapo migrate` on a new data dir applies the schema, and a second run changes nothing."""
    data = tmp_path / "new" / "data"
    assert "Applied" in ok(gapo(data, "migrate"))
    assert (data / "gapo.sqlite3").exists()
    assert "up to date" in ok(gapo(data, "migrate"))


def test_user_lifecycle(data_dir: Path) -> None:
    """create (stdin password), --admin, list, set-password, promote, suspend through the CLI."""
    out = ok(
        gapo(
            data_dir,
            "user",
            "create",
            "root_admin",
            "--email",
            "R@Example.org",
            "--admin",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )
    assert "Created admin @root_admin" in out
    out = ok(
        gapo(
            data_dir,
            "user",
            "create",
            "thu",
            "--email",
            "thu@example.org",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )
    assert "Created user @thu" in out
    assert users_table(data_dir) == {
        "root_admin": ["r@example.org", "admin", "active"],
        "thu": ["thu@example.org", "user", "active"],
    }
    ok(
        gapo(
            data_dir,
            "user",
            "set-password",
            "thu",
            "--password-stdin",
            stdin="another fine passphrase\n",
        )
    )
    assert "now an admin" in ok(gapo(data_dir, "user", "promote", "thu"))
    assert users_table(data_dir)["thu"][1] == "admin"
    assert "suspended" in ok(gapo(data_dir, "user", "suspend", "thu"))
    assert users_table(data_dir)["thu"][2] == "suspended"


async def test_cli_changes_are_seen_by_the_app(data_dir: Path, make_app: AppFactory) -> None:
    """A password set in the CLI works for login in the web app on the same data dir."""
    ok(
        gapo(
            data_dir,
            "user",
            "create",
            "uyen",
            "--email",
            "uyen@example.org",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )
    ok(
        gapo(
            data_dir,
            "user",
            "set-password",
            "uyen",
            "--password-stdin",
            stdin="another fine passphrase\n",
        )
    )
    app = await make_app(data_dir=data_dir)
    client = app.test_client()
    old = await post_form(client, "/login", {"login": "uyen", "password": PASSWORD})
    assert old.status_code == 401
    new = await post_form(
        client, "/login", {"login": "uyen", "password": "another fine passphrase"}
    )
    assert new.status_code == 302


async def test_approve_lets_a_pending_user_log_in(data_dir: Path, make_app: AppFactory) -> None:
    """`gapo user approve` turns a pending sign-up (approval mode) into one that can log in."""
    app = await make_app(data_dir=data_dir, registrations="approval")
    client = app.test_client()
    assert (await signup(client, "van")).status_code == 201
    assert users_table(data_dir)["van"][2] == "pending"
    assert "approved" in ok(gapo(data_dir, "user", "approve", "van"))
    assert users_table(data_dir)["van"][2] == "active"
    response = await post_form(client, "/login", {"login": "van", "password": PASSWORD})
    assert response.status_code == 302


async def test_invite_code_from_cli_works_once(data_dir: Path, make_app: AppFactory) -> None:
    """A code printed by `gapo invite create` admits exactly one sign-up in invite mode."""
    code = ok(gapo(data_dir, "invite", "create")).strip()
    assert len(code) >= 12 and " " not in code
    app = await make_app(data_dir=data_dir, registrations="invite")
    client = app.test_client()
    assert (await signup(client, "xuan", invite=code)).status_code == 302
    await post_form(client, "/logout", {}, csrf_from="/")
    assert (await signup(client, "yen", invite=code)).status_code == 422


def test_bad_input_exits_2_with_a_message(data_dir: Path) -> None:
    """Bad names, weak passwords, unknown users and taken names exit 2 with a one-line reason."""
    cases = [
        (
            ("user", "create", "Bad Name", "--email", "b@example.org", "--password-stdin"),
            PASSWORD,
            "lowercase letters",
        ),
        (
            ("user", "create", "admin", "--email", "b@example.org", "--password-stdin"),
            PASSWORD,
            "reserved",
        ),
        (
            ("user", "create", "okname", "--email", "nope", "--password-stdin"),
            PASSWORD,
            "valid email",
        ),
        (
            ("user", "create", "okname", "--email", "b@example.org", "--password-stdin"),
            "short",
            "at least 10",
        ),
        (("user", "promote", "ghost"), "", "No local user named ghost"),
        (("user", "set-password", "ghost", "--password-stdin"), PASSWORD, "No local user"),
    ]
    for args, stdin, reason in cases:
        result = gapo(data_dir, *args, stdin=stdin + "\n")
        assert result.returncode == 2, (args, result.stderr)
        assert reason in result.stderr and "Traceback" not in result.stderr
    ok(
        gapo(
            data_dir,
            "user",
            "create",
            "zed",
            "--email",
            "z@example.org",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )
    taken = gapo(
        data_dir,
        "user",
        "create",
        "zed",
        "--email",
        "z2@example.org",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert taken.returncode == 2 and "taken" in taken.stderr
    assert list(users_table(data_dir)) == ["zed"]


def test_bad_configuration_exits_2(tmp_path: Path) -> None:
    """An invalid setting is reported by name with exit code 2, not a traceback."""
    result = gapo(tmp_path / "data", "migrate", GAPO_REGISTRATIONS="sometimes")
    assert result.returncode == 2 and "GAPO_REGISTRATIONS" in result.stderr


def test_commands_refuse_when_migrations_pending(tmp_path: Path) -> None:
    """serve, worker and user commands refuse with exit 2 until `gapo migrate` has run."""
    data = tmp_path / "data"
    for args in (("serve", "--port", str(free_port())), ("worker",), ("user", "list")):
        result = gapo(data, *args, timeout=30)
        assert result.returncode == 2, result.stderr
        assert "gapo migrate" in result.stderr and "Traceback" not in result.stderr


def test_config_file_reaches_the_command(tmp_path: Path) -> None:
    """Settings from `--config FILE` apply (here: the data dir the CLI works on)."""
    data = tmp_path / "elsewhere"
    config = tmp_path / "gapo.toml"
    config.write_text(f'data_dir = "{data}"\nregistrations = "invite"\n')
    env = gapo_env(tmp_path / "unused")
    del env["GAPO_DATA_DIR"]
    result = subprocess.run(
        [str(GAPO), "--config", str(config), "migrate"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (data / "gapo.sqlite3").exists()


def test_serve_with_two_workers_answers(tmp_path: Path) -> None:
    """`gapo --config F serve --workers 2` answers on a free loopback port with F's settings."""
    config = tmp_path / "gapo.toml"
    config.write_text('instance_name = "Config Reaches Workers"\nregistrations = "closed"\n')
    with running_server(tmp_path / "data", "--config", str(config), workers=2) as server:
        for _ in range(6):  # several connections, so both workers are likely to answer
            with urllib.request.urlopen(server.base_url + "/", timeout=5) as reply:
                assert reply.status == 200
                page = reply.read().decode()
                assert "no administrator yet" in page
                assert "Config Reaches Workers" in page and "Sign-ups are closed" in page
    assert "2 worker(s)" in server.output
    assert "Traceback" not in server.output, server.output


async def test_user_delete_from_the_cli(data_dir: Path, make_app: AppFactory) -> None:
    """`gapo user delete` marks the account deleted at once (410, no login) and leaves the
    removal to the job queue, which the app's runner then finishes."""
    app = await make_app(data_dir=data_dir)
    assert (await signup(app.test_client(), "xuan")).status_code in (302, 303)
    assert "deleted" in ok(gapo(data_dir, "user", "delete", "xuan"))
    client = app.test_client()
    assert (await client.get("/@xuan")).status_code == 410
    login = await post_form(client, "/login", {"login": "xuan", "password": PASSWORD})
    assert login.status_code == 401
    await app.extensions["gapo"].runner.run_until_idle(limit_seconds=10)
    assert "xuan" not in users_table(data_dir)
    assert gapo(data_dir, "user", "delete", "xuan").returncode != 0


def test_domain_allowlist_and_mode(data_dir: Path) -> None:
    """`gapo domain allow / disallow / allowlist / mode`: the allowlist and the mode from a
    shell; a bad domain or mode is refused with a reason and changes nothing."""
    assert ok(gapo(data_dir, "domain", "mode")).strip() == "Federation mode: open."
    assert "is on the allowlist" in ok(gapo(data_dir, "domain", "allow", "Friends.Example"))
    ok(gapo(data_dir, "domain", "allow", "https://pals.example/"))
    assert ok(gapo(data_dir, "domain", "allowlist")).split() == ["friends.example", "pals.example"]
    assert "off the allowlist" in ok(gapo(data_dir, "domain", "disallow", "pals.example"))
    assert ok(gapo(data_dir, "domain", "allowlist")).split() == ["friends.example"]
    bad = gapo(data_dir, "domain", "allow", "not a domain")
    assert bad.returncode == 2 and "not a domain name" in bad.stderr
    assert gapo(data_dir, "domain", "mode", "closed").returncode == 2
    result = gapo(data_dir, "domain", "mode", "allowlist")
    assert ok(result).strip() == "Federation mode: allowlist."
    ok(gapo(data_dir, "domain", "disallow", "friends.example"))
    assert "allowlist is empty" in gapo(data_dir, "domain", "mode").stderr
