"""The `gapo` command: serve, worker, migrate, and user and invite administration."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from instance.config import ConfigError, Settings, load_settings
from instance.errors import GapoError


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password (again): ")
    if first != second:
        raise SystemExit("The passwords do not match.")
    return first


async def _with_services(settings: Settings, action: Callable[[Any], Awaitable[int]]) -> int:
    from instance.services import open_services

    services = await open_services(settings)
    try:
        return await action(services)
    finally:
        await services.close()


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from instance.db.backend import sqlite_file
    from instance.db.migrate import migrate

    path = sqlite_file(settings.database_url)  # None for PostgreSQL; refuses unknown schemes
    applied = asyncio.run(migrate(settings.database_url, path))
    print(f"Applied {len(applied)} migration(s)." if applied else "The schema is up to date.")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from instance.serve import serve

    if args.no_jobs:
        settings = settings.with_(run_jobs=False)
    return serve(settings, host=args.host, port=args.port, workers=args.workers)


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from instance.jobs.routing import UnknownJobKind
    from instance.worker import run_worker

    kinds = [name for name in (args.kinds or "").split(",") if name.strip()]
    if args.kinds is not None and not kinds:
        print("gapo: --kinds names no job kind", file=sys.stderr)
        return 2
    try:
        return run_worker(settings, kinds)
    except UnknownJobKind as exc:
        print(f"gapo: {exc}", file=sys.stderr)
        return 2


def cmd_user_create(settings: Settings, args: argparse.Namespace) -> int:
    from instance.accounts.service import SignupRequest

    password = _read_password(args.password_stdin)

    async def action(services: Any) -> int:
        user = await services.accounts.signup(
            SignupRequest(username=args.name, email=args.email, password=password),
            role="admin" if args.admin else "user",
            bypass_mode=True,
        )
        print(f"Created {'admin' if args.admin else 'user'} @{user['username']}.")
        return 0

    return asyncio.run(_with_services(settings, action))


def cmd_user_list(settings: Settings, args: argparse.Namespace) -> int:
    async def action(services: Any) -> int:
        print(f"{'username':<30} {'email':<40} {'role':<10} state")
        for user in await services.accounts.list_users():
            state = (
                "suspended" if user["suspended_at"] else "active" if user["approved"] else "pending"
            )
            print(f"{user['username']:<30} {user['email']:<40} {user['role']:<10} {state}")
        return 0

    return asyncio.run(_with_services(settings, action))


def _user_action(method: str, message: str) -> Callable[[Settings, argparse.Namespace], int]:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        async def action(services: Any) -> int:
            await getattr(services.accounts, method)(args.name)
            print(message % args.name)
            return 0

        return asyncio.run(_with_services(settings, action))

    return run


def cmd_user_set_password(settings: Settings, args: argparse.Namespace) -> int:
    password = _read_password(args.password_stdin)

    async def action(services: Any) -> int:
        await services.accounts.set_password(args.name, password)
        print(f"Password changed for @{args.name}.")
        return 0

    return asyncio.run(_with_services(settings, action))


def cmd_invite_create(settings: Settings, args: argparse.Namespace) -> int:
    async def action(services: Any) -> int:
        code = await services.accounts.create_invite(
            max_uses=args.max_uses, expires_in=args.expires_days * 86400 or None
        )
        print(code)
        return 0

    return asyncio.run(_with_services(settings, action))


def cmd_jobs_status(settings: Settings, args: argparse.Namespace) -> int:
    async def action(services: Any) -> int:
        for row in await services.federation_admin.job_counts():
            print(f"{row['kind']:<12} {row['state']:<8} {row['n']}")
        return 0

    return asyncio.run(_with_services(settings, action))


def cmd_jobs_retry_now(settings: Settings, args: argparse.Namespace) -> int:
    async def action(services: Any) -> int:
        count = await services.federation_admin.retry_now()
        print(f"{count} waiting job(s) will run now.")
        return 0

    return asyncio.run(_with_services(settings, action))


def cmd_media_prune(settings: Settings, args: argparse.Namespace) -> int:
    days = settings.remote_media_days if args.days is None else args.days
    if days < 0:
        raise SystemExit("--days must be 0 or more.")

    async def action(services: Any) -> int:
        from instance.ids import now

        count = await services.remote_media.prune(now() - days * 86400)
        print(f"{count} cached remote file(s) not viewed for {days} day(s) deleted.")
        return 0

    return asyncio.run(_with_services(settings, action))


def cmd_media_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from instance.media.backends import local_storage, s3_storage
    from instance.media.migrate import migrate_to_s3

    if not settings.s3_bucket:
        raise ConfigError("set GAPO_S3_BUCKET (and the other GAPO_S3_* settings) first")
    local = local_storage(settings)
    root = local.root

    async def run() -> int:
        target = s3_storage(settings)
        try:
            report = await migrate_to_s3(root, target, progress=print, incoming=local.incoming)
        finally:
            await target.close()
        print(
            f"{report.found} local file(s): {report.copied} copied "
            f"({report.bytes_copied} bytes), {report.already} already in the bucket, "
            f"{len(report.failed)} failed."
        )
        if not report.complete:
            print("Run the command again to retry the failed files.")
            return 1
        if settings.media_storage != "s3":
            print(
                "All files are in the bucket. Now set GAPO_MEDIA_STORAGE=s3 (keeping the "
                "GAPO_S3_* settings) on every web process and worker, restart them, then run "
                "this command once more to copy what was stored meanwhile. Keep "
                f"{root} until the instance has served from the bucket for a while."
            )
        else:
            print("All files are in the bucket; GAPO_MEDIA_STORAGE is already s3.")
        return 0

    return asyncio.run(run())


def cmd_db_copy(settings: Settings, args: argparse.Namespace) -> int:
    from instance.db.backend import is_postgresql, sqlite_file
    from instance.db.copy_to_postgres import CopyRefused, copy_to_postgresql
    from instance.db.migrate import migrate

    source = sqlite_file(settings.database_url)
    if source is None or not source.exists():
        raise SystemExit("gapo db copy: GAPO_DATABASE_URL must name the existing SQLite file.")
    if not is_postgresql(args.to):
        raise SystemExit("gapo db copy: --to must be a postgresql:// URL.")
    asyncio.run(migrate(settings.database_url, source))  # both sides at the same schema
    try:
        counts = asyncio.run(copy_to_postgresql(source, args.to))
    except CopyRefused as exc:
        print(f"gapo db copy: {exc}", file=sys.stderr)
        return 1
    for table, count in counts.items():
        print(f"{table}: {count} row(s)")
    print(f"Copied {sum(counts.values())} rows in {len(counts)} tables; the counts match.")
    print("Now set GAPO_DATABASE_URL to the PostgreSQL URL for every gapo process (environment")
    print("or TOML file), start them again, and keep the SQLite file as a backup.")
    return 0


def _domain_action(blocked: bool) -> Callable[[Settings, argparse.Namespace], int]:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        async def action(services: Any) -> int:
            await services.federation_admin.block_domain(args.domain, blocked)
            print(f"{args.domain} is {'blocked' if blocked else 'unblocked'}.")
            return 0

        return asyncio.run(_with_services(settings, action))

    return run


def _allow_action(allowed: bool) -> Callable[[Settings, argparse.Namespace], int]:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        async def action(services: Any) -> int:
            name = await services.allowlist.allow_domain(args.domain, allowed)
            print(f"{name} is {'on' if allowed else 'off'} the allowlist.")
            return 0

        return asyncio.run(_with_services(settings, action))

    return run


def cmd_domain_allowlist(settings: Settings, args: argparse.Namespace) -> int:
    async def action(services: Any) -> int:
        for name in await services.allowlist.domains():
            print(name)
        return 0

    return asyncio.run(_with_services(settings, action))


def cmd_domain_mode(settings: Settings, args: argparse.Namespace) -> int:
    async def action(services: Any) -> int:
        if args.mode:
            await services.allowlist.set_mode(args.mode)
        mode = await services.allowlist.mode()
        print(f"Federation mode: {mode}.")
        if mode == "allowlist" and not await services.allowlist.domains():
            print("The allowlist is empty: no other server federates.", file=sys.stderr)
        return 0

    return asyncio.run(_with_services(settings, action))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gapo", description="Run and administer a Gapo instance.")
    parser.add_argument("--config", help="a TOML settings file (also GAPO_CONFIG)")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the instance with Hypercorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: one per CPU)"
    )
    serve.add_argument(
        "--no-jobs", action="store_true", help="serve only; `gapo worker` runs the jobs"
    )
    serve.set_defaults(func=cmd_serve)
    worker = commands.add_parser(
        "worker", help="run background jobs (deliveries, inbox processing) without HTTP"
    )
    worker.add_argument(
        "--kinds",
        metavar="KIND[,KIND…]",
        help="run only these job kinds or groups (e.g. deliver,fanout or media); default all",
    )
    worker.set_defaults(func=cmd_worker)

    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=cmd_migrate
    )

    user = commands.add_parser("user", help="manage local users").add_subparsers(
        dest="user_command", required=True
    )
    create = user.add_parser("create", help="create a user (asks for the password)")
    create.add_argument("name")
    create.add_argument("--email", default="", help="optional unless GAPO_REQUIRE_EMAIL is on")
    create.add_argument("--admin", action="store_true")
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password as one line from standard input",
    )
    create.set_defaults(func=cmd_user_create)
    user.add_parser("list", help="list local users").set_defaults(func=cmd_user_list)
    set_password = user.add_parser("set-password", help="change a user's password")
    set_password.add_argument("name")
    set_password.add_argument("--password-stdin", action="store_true")
    set_password.set_defaults(func=cmd_user_set_password)
    for name, method, message in (
        ("promote", "promote", "@%s is now an admin."),
        ("suspend", "suspend", "@%s is suspended."),
        ("approve", "approve", "@%s is approved and can log in."),
        (
            "delete",
            "delete",
            "@%s is deleted; the job queue removes its data and tells other servers.",
        ),
    ):
        sub = user.add_parser(name, help=f"{name} a user")
        sub.add_argument("name")
        sub.set_defaults(func=_user_action(method, message))

    invite = commands.add_parser("invite", help="manage invite codes").add_subparsers(
        dest="invite_command", required=True
    )
    invite_create = invite.add_parser("create", help="print a new invite code")
    invite_create.add_argument("--max-uses", type=int, default=1)
    invite_create.add_argument(
        "--expires-days", type=int, default=7, help="0 for a code that never expires"
    )
    invite_create.set_defaults(func=cmd_invite_create)
    jobs = commands.add_parser("jobs", help="the delivery and processing queue").add_subparsers(
        dest="jobs_command", required=True
    )
    jobs.add_parser("status", help="count jobs by kind and state").set_defaults(
        func=cmd_jobs_status
    )
    jobs.add_parser("retry-now", help="run every waiting job now").set_defaults(
        func=cmd_jobs_retry_now
    )

    media = commands.add_parser("media", help="stored media files").add_subparsers(
        dest="media_command", required=True
    )
    prune = media.add_parser("prune", help="delete cached copies of remote files not viewed lately")
    prune.add_argument(
        "--days",
        type=int,
        default=None,
        help="not viewed for this many days (GAPO_REMOTE_MEDIA_DAYS)",
    )
    prune.set_defaults(func=cmd_media_prune)
    move = media.add_parser("migrate", help="copy the local media files into the S3 bucket")
    move.add_argument("--to", choices=["s3"], required=True, help="where to copy them")
    move.set_defaults(func=cmd_media_migrate)

    db = commands.add_parser("db", help="the database").add_subparsers(
        dest="db_command", required=True
    )
    copy = db.add_parser("copy", help="copy the SQLite database into an empty PostgreSQL one")
    copy.add_argument("--to", required=True, help="postgresql://USER:PASSWORD@HOST/DATABASE")
    copy.set_defaults(func=cmd_db_copy)

    domain = commands.add_parser("domain", help="block or unblock a remote domain").add_subparsers(
        dest="domain_command", required=True
    )
    for name, blocked in (("block", True), ("unblock", False)):
        sub = domain.add_parser(name, help=f"{name} a domain")
        sub.add_argument("domain")
        sub.set_defaults(func=_domain_action(blocked))
    for name, allowed in (("allow", True), ("disallow", False)):
        verb = "add a domain to" if allowed else "remove a domain from"
        sub = domain.add_parser(name, help=f"{verb} the allowlist")
        sub.add_argument("domain")
        sub.set_defaults(func=_allow_action(allowed))
    domain.add_parser("allowlist", help="list the allowlist").set_defaults(
        func=cmd_domain_allowlist
    )
    mode = domain.add_parser("mode", help="show or set the federation mode")
    mode.add_argument("mode", nargs="?", choices=("open", "allowlist"))
    mode.set_defaults(func=cmd_domain_mode)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.config:
            # `gapo serve` workers rebuild their settings from the environment: the file must
            # reach them too, so it is passed on as GAPO_CONFIG rather than as an argument.
            os.environ["GAPO_CONFIG"] = str(Path(args.config).resolve())
        settings = load_settings()
        return int(args.func(settings, args))
    except (ConfigError, GapoError) as exc:
        print(f"gapo: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from instance.services import SchemaOutOfDate

        if isinstance(exc, SchemaOutOfDate):
            print(f"gapo: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
