"""What the sign-up surge checks afterwards (bench_signup_surge.py): the rows in the SQLite
file are exactly the accepted sign-ups, their actors show a key, the server logged no error."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from signup_surge_client import SurgeResult

AP_ACCEPT = "application/activity+json"
ERROR_LINE_RE = re.compile(r"Traceback|\b(ERROR|CRITICAL)\b|database busy")


@dataclass
class DbCheck:
    users: int
    person_accounts: int
    users_without_account: int
    accounts_without_user: int
    accounts_with_several_keypairs: int
    keypairs_by_username: dict[str, int]
    users_without_session: int
    usernames: set[str]
    quick_check: str


def check_database(path: Path) -> DbCheck:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:

        def value(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])

        person = "a.local = 1 AND a.ap_type = 'Person'"  # the instance actor is 'Application'
        return DbCheck(
            users=value("SELECT COUNT(*) FROM users"),
            person_accounts=value(f"SELECT COUNT(*) FROM accounts a WHERE {person}"),
            users_without_account=value(
                "SELECT COUNT(*) FROM users u LEFT JOIN accounts a ON a.id = u.account_id"
                " WHERE a.id IS NULL"
            ),
            accounts_without_user=value(
                f"SELECT COUNT(*) FROM accounts a WHERE {person}"
                " AND NOT EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id)"
            ),
            # Keys are made on first use: none or one per account, never two.
            accounts_with_several_keypairs=value(
                f"SELECT COUNT(*) FROM accounts a WHERE {person} AND (SELECT COUNT(*) FROM"
                " keypairs k WHERE k.account_id = a.id) > 1"
            ),
            keypairs_by_username={
                row[0]: int(row[1])
                for row in conn.execute(
                    f"SELECT a.username, (SELECT COUNT(*) FROM keypairs k WHERE k.account_id ="
                    f" a.id AND k.private_pem IS NOT NULL) FROM accounts a WHERE {person}"
                )
            },
            users_without_session=value(
                "SELECT COUNT(*) FROM users u"
                " WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id)"
            ),
            usernames={
                row[0]
                for row in conn.execute(
                    "SELECT a.username FROM users u JOIN accounts a ON a.id = u.account_id"
                )
            },
            quick_check=str(conn.execute("PRAGMA quick_check").fetchone()[0]),
        )
    finally:
        conn.close()


def check_rows(db: DbCheck, result: SurgeResult, keys: KeyCheck | None) -> list[str]:
    problems = []
    accepted = {a.username for a in result.attempts if a.outcome == "accepted"}
    by_name = {a.username: a.outcome for a in result.attempts}
    print("database (read-only, after the server stopped):")
    print(
        f"  users {db.users}, local Person accounts {db.person_accounts}, accepted {len(accepted)}"
    )
    print(
        f"  users without account {db.users_without_account}, accounts without user "
        f"{db.accounts_without_user}, accounts with more than one key pair "
        f"{db.accounts_with_several_keypairs}, users without session {db.users_without_session}, "
        f"quick_check {db.quick_check}"
    )
    fetched = keys.with_key if keys is not None else []
    keyless = [name for name in fetched if db.keypairs_by_username.get(name) != 1]
    print(
        f"  key pairs: {sum(v == 1 for v in db.keypairs_by_username.values())} accounts have one"
        f" (made on first use); of the {len(fetched)} whose actor was fetched, {len(keyless)}"
        " without exactly one stored"
    )
    if keyless:
        problems.append(f"{len(keyless)} fetched actor(s) without exactly one stored key pair")
    if db.users != len(accepted) or db.person_accounts != len(accepted):
        problems.append(
            f"rows mismatch: {db.users} users and {db.person_accounts} accounts"
            f" for {len(accepted)} accepted sign-ups"
        )
    for name, count in (
        ("users without an account", db.users_without_account),
        ("accounts without a user", db.accounts_without_user),
        ("accounts with more than one key pair", db.accounts_with_several_keypairs),
        ("users without a session", db.users_without_session),
    ):
        if count:
            problems.append(f"{count} {name}")
    if db.quick_check != "ok":
        problems.append(f"PRAGMA quick_check: {db.quick_check}")
    missing = accepted - db.usernames
    if missing:
        problems.append(f"{len(missing)} accepted sign-up(s) have no row, e.g. {min(missing)}")
    extra = db.usernames - accepted
    if extra:
        seen = Counter(by_name.get(name, "not sent by this run") for name in extra)
        problems.append(
            f"{len(extra)} stored user(s) were not answered as accepted; the client saw {dict(seen)}"
        )
    return problems


def server_log_problems(log: str) -> list[str]:
    lines = [line for line in log.splitlines() if ERROR_LINE_RE.search(line)]
    if not lines:
        print("server log: no errors, tracebacks or busy retries")
        return []
    print(f"server log: {len(lines)} error/traceback/busy line(s); the first ones:")
    for line in lines[:8]:
        print(f"  {line[:200]}")
    tracebacks = sum("Traceback" in line for line in lines)
    return [f"server log has {tracebacks} traceback(s)"] if tracebacks else []


@dataclass
class KeyCheck:
    """Actor documents of accepted users fetched after the surge: each must show its key."""

    with_key: list[str]
    without_key: list[str]

    def report(self) -> list[str]:
        print(
            f"actor documents after the surge: {len(self.with_key)} with a publicKey,"
            f" {len(self.without_key)} without"
        )
        return [f"{len(self.without_key)} actor(s) without a publicKey"] if self.without_key else []


async def check_actor_keys(base_url: str, result: SurgeResult, samples: int) -> KeyCheck:
    names = [a.username for a in result.attempts if a.outcome == "accepted"][:samples]
    check = KeyCheck([], [])
    async with aiohttp.ClientSession() as session:
        for name in names:
            async with session.get(
                f"{base_url}/users/{name}", headers={"Accept": AP_ACCEPT}
            ) as reply:
                doc = await reply.json(content_type=None) if reply.status == 200 else {}
            pem = (doc.get("publicKey") or {}).get("publicKeyPem", "")
            (
                check.with_key if pem.startswith("-----BEGIN PUBLIC KEY") else check.without_key
            ).append(name)
    return check
