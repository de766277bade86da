"""Account rules: sign-up under each registration mode, login, profile edits, admin actions."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from activitypub.html import text_to_html
from instance.accounts.changes import AccountChanges
from instance.accounts.deletion import AccountDeletion
from instance.accounts.login_throttle import LoginThrottle, account_key
from instance.accounts.passwords import PasswordService
from instance.accounts.profile_fields import clean_fields, fields_json
from instance.accounts.sessions import token_hash
from instance.accounts.site import SiteSettings
from instance.accounts.validation import (
    BIO_MAX,
    DISPLAY_NAME_MAX,
    clean_text,
    normalise_email,
    validate_username,
)
from instance.config import Settings
from instance.db import Database, search_index
from instance.db import accounts as accounts_q
from instance.db import invites as invites_q
from instance.db import sessions as sessions_q
from instance.db import users as users_q
from instance.db.connection import Row, Transaction
from instance.db.executor import Executor
from instance.db.rows import AccountRow, KeyPairRow, UserRow
from instance.errors import (
    N_,
    AccountGone,
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    RegistrationClosed,
    ValidationFailed,
)
from instance.ids import IdGenerator, now
from instance.media.images import ImageKind
from instance.media.service import MediaService
from instance.outbound.actor_keys import ActorKeys
from instance.outbound.profile_updates import ProfileFederation
from instance.urls import LocalUrls

ROLES = ("user", "moderator", "admin")


@dataclass(frozen=True)
class SignupRequest:
    username: str
    email: str
    password: str
    invite_code: str = ""
    locale: str | None = None


class AccountService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        ids: IdGenerator,
        passwords: PasswordService,
        keys: ActorKeys,
        *,
        media: MediaService | None = None,
        render_text: Callable[[str], Awaitable[str]] | None = None,
        login_throttle: LoginThrottle | None = None,
        profile_updates: ProfileFederation | None = None,
        changes: AccountChanges | None = None,
        deletion: AccountDeletion | None = None,
        site: SiteSettings | None = None,
    ) -> None:
        self.settings = settings
        self.urls = LocalUrls(settings.base_url)
        self.db = db
        self.ids = ids
        self.passwords = passwords
        # Each local actor's key pair, made when it first federates.
        self.keys = keys
        self.media = media
        # Renders a bio like a post (mentions resolved); plain linking when not given.
        self.render_text = render_text
        self.login_throttle = login_throttle
        # Enqueues the Update(Person) of a saved profile; None where nothing federates.
        self.profile_updates = profile_updates
        # Bumped after each commit that changes what an actor or WebFinger document says, so
        # every process's cached copy goes (instance/federation/document_cache.py).
        self.changes = changes
        # Account deletion (instance/accounts/deletion.py): marked at once, done by a job.
        self.deletion = deletion
        # The registration mode and pause as the admin set them (accounts/site.py); the
        # configuration's mode where there is none.
        self.site = site

    async def signup(
        self,
        req: SignupRequest,
        *,
        role: str = "user",
        bypass_mode: bool = False,
        then: Callable[[Executor, int], Awaitable[None]] | None = None,
    ) -> Row:
        """Create account and user in one transaction; returns the user row.

        `then(tx, user_id)` runs in that transaction for an approved user (the web sign-up
        starts its session there: one write transaction for the whole sign-up).

        Slow work (the strength estimate, hashing) happens before the transaction opens, so
        the write lock is held only for the inserts and a failure leaves no row behind. The
        actor's key pair is made when it first federates (instance/outbound/actor_keys.py).
        """
        mode = self.settings.registrations
        if self.site is not None:
            site = await self.site.get()
            mode = site.registrations
            if not bypass_mode and site.registrations_paused:
                raise RegistrationClosed(N_("Sign-ups are paused for now. Please come back later."))
        if not bypass_mode and mode == "closed":
            raise RegistrationClosed()
        username = validate_username(req.username)
        email = self._email(req.email)
        if role not in ROLES:
            raise ValidationFailed(N_("Unknown role."), field="role")
        invite_code = req.invite_code.strip()
        if not bypass_mode and mode == "invite" and not invite_code:
            raise ValidationFailed(N_("An invite code is needed to sign up here."), field="invite")
        # The place in the hashing pool is taken before any slow work: under a surge a
        # sign-up is refused at once (503 + Retry-After from the pool's estimate of its
        # wait), not after reads and a strength estimate (bench/bench_signup_surge.py).
        with self.passwords.pool.slot() as hash_slot:
            await self.passwords.check(req.password, _known_words(username, email))
            await self._refuse_taken(username)
            password_hash = await self.passwords.hash(req.password, hash_slot)

        ts = now()
        account_id, user_id = (self.ids.next_id() for _ in range(2))
        approved = not (mode == "approval" and not bypass_mode)
        async with self.db.transaction() as tx:
            invite_id = None
            if not bypass_mode and mode == "invite":
                invite = await invites_q.use_invite(tx, invite_code, ts)
                if invite is None:
                    raise ValidationFailed(
                        N_("That invite code is not valid or has been used up."), field="invite"
                    )
                invite_id = invite["id"]
            # Re-checked under the write lock: two sign-ups for one name race otherwise.
            # The email is not checked at all: an answer that differed for an address
            # someone here gave would tell anyone whether it has an account (privacy.md).
            if await users_q.username_taken(tx, username):
                raise Conflict(N_("That username is taken."), field="username")
            await accounts_q.insert_account(
                tx,
                {
                    "id": account_id,
                    "local": 1,
                    "username": username,
                    "username_key": username,
                    "domain": "",
                    "display_name": username,
                    "created_at": ts,
                    "updated_at": ts,
                    "ap_type": "Person",
                },
            )
            await users_q.insert_user(
                tx,
                {
                    "id": user_id,
                    "account_id": account_id,
                    "email": email,
                    "password_hash": password_hash,
                    "role": role,
                    "locale": req.locale,
                    "approved": 1 if approved else 0,
                    "invite_id": invite_id,
                    "created_at": ts,
                },
            )
            if then is not None and approved:
                await then(tx, user_id)
        user = await users_q.get_by_id(self.db, user_id)
        assert user is not None
        return user

    async def _refuse_taken(self, username: str) -> None:
        if await users_q.username_taken(self.db, username):
            raise Conflict(N_("That username is taken."), field="username")

    def _email(self, raw: str) -> str:
        """The address given, normalised; '' for none unless the instance requires one."""
        if not raw.strip():
            if self.settings.require_email:
                raise ValidationFailed(N_("Enter a valid email address."), field="email")
            return ""
        return normalise_email(raw)

    def _login_name(self, login: str) -> str:
        """A username from what was typed: `name`, `@name` or `@name@this.host`.

        Log-in is by username only: emails are not unique (and may be absent), so an
        address names no one account.
        """
        name = login.strip().removeprefix("@")
        suffix = f"@{self.settings.host}"
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
        return name.lower()

    async def authenticate(self, login: str, password: str, *, device: str | None = None) -> Row:
        """The user for a username and password; refuses pending and suspended ones.

        Failures count against the account (LoginThrottle); `device` is the browser's device
        cookie, which keeps the owner's attempts apart from a stranger's.
        """
        login = login.strip()
        # As for a sign-up, the place in the hashing pool first: a surge of logins is
        # refused at once with 503 + Retry-After, before the reads.
        with self.passwords.pool.slot() as hash_slot:
            user = await users_q.get_by_username(self.db, self._login_name(login))
            key = account_key(user["user_id"] if user else None, login)
            if self.login_throttle is not None:
                await self.login_throttle.check(key, device)
            ok = await self.passwords.verify(
                user["password_hash"] if user else None, password, hash_slot
            )
        if user is not None and user["deleted_at"] is not None:
            # The login of a deleted account (removed by its job soon after) is no more.
            user, ok = None, False
        if user is None or not ok:
            if self.login_throttle is not None:
                await self.login_throttle.failed(key, device)
            raise NotAuthenticated(N_("Wrong username or password."))
        if user["suspended_at"] is not None:
            raise Forbidden(N_("This account is suspended."))
        if not user["approved"]:
            raise Forbidden(N_("Your sign-up is waiting for an administrator's approval."))
        ts = now()
        await users_q.set_fields(
            self.db, user["user_id"], {"last_login_at": ts, "last_active_at": ts}
        )
        return user

    async def update_profile(
        self,
        account_id: int,
        *,
        display_name: str,
        bio: str,
        locked: bool | None = None,
        bot: bool | None = None,
        fields: list[tuple[str, str]] | None = None,
        avatar: bytes | None = None,
        header: bytes | None = None,
        indexable: bool | None = None,
    ) -> None:
        """Validate everything first, then process images, then write the row once.

        The row and the Update(Person) for followers elsewhere are written in one
        transaction: both are saved, or neither. `fields` None leaves the profile fields
        alone; images None keep the current ones. `indexable` is the search switch: turning
        it off takes the person's posts out of the search index at once, turning it on puts
        their public posts back.
        """
        name = clean_text(display_name, limit=DISPLAY_NAME_MAX, field="display_name")
        name = " ".join(name.split())
        bio_text = clean_text(bio, limit=BIO_MAX, field="bio")
        bio_html = await self.render_text(bio_text) if self.render_text else text_to_html(bio_text)
        values: dict[str, Any] = {
            "display_name": name,
            "note_source": bio_text,
            "note_html": bio_html,
            **({} if locked is None else {"locked": 1 if locked else 0}),
            **({} if bot is None else {"bot": 1 if bot else 0}),
            **({} if indexable is None else {"indexable": 1 if indexable else 0}),
        }
        if fields is not None:
            values["fields_json"] = fields_json(clean_fields(fields))
        if self.profile_updates is not None:
            # The Update(Person) carries the public key: made now if the actor has none yet,
            # before any file is stored or the write lock taken (instance/outbound/actor_keys.py).
            await self.keys.for_account(account_id)
        uploads: list[tuple[Literal["avatar_url", "header_url"], bytes, ImageKind]] = []
        if avatar is not None:
            uploads.append(("avatar_url", avatar, "avatar"))
        if header is not None:
            uploads.append(("header_url", header, "header"))
        replaced: list[str | None] = []
        stored: list[str] = []
        if uploads:
            if self.media is None:
                raise ValidationFailed(N_("Image uploads are not available here."))
            current = await self.account(account_id)
            for column, data, kind in uploads:
                values[column] = await self.media.profile_image(data, kind)
                stored.append(values[column])
                replaced.append(current[column])
        values["updated_at"] = now()
        try:
            async with self.db.transaction() as tx:
                before = await accounts_q.get_by_id(tx, account_id)
                await accounts_q.update_profile(tx, account_id, values)
                if before is not None and before["indexable"] != values.get(
                    "indexable", before["indexable"]
                ):
                    await search_index.reindex_account_posts(tx, account_id)
                if self.profile_updates is not None:
                    await self.profile_updates.enqueue_update(tx, account_id)
                self._changed(tx)
        except BaseException:
            # The row still points at the old files: the new ones are nobody's.
            await self._forget(stored)
            raise
        # Only now that the row points at the new files do the old ones go.
        await self._forget(replaced)

    async def _forget(self, urls: Sequence[str | None]) -> None:
        if self.media is not None:
            for url in urls:
                await self.media.forget(url)

    async def set_locale(self, user_id: int, locale: str) -> None:
        await users_q.set_fields(self.db, user_id, {"locale": locale})

    async def profile(self, username: str) -> AccountRow:
        account = await accounts_q.get_local_by_username(self.db, username)
        if account is not None and account["deleted_at"] is not None:
            raise AccountGone()
        if account is None or account["ap_type"] != "Person" or account["suspended_at"]:
            raise NotFound()
        return account

    # --- admin actions (CLI now, admin UI later) ---

    async def _user(self, username: str) -> Row:
        user = await users_q.get_by_username(self.db, username)
        if user is None:
            raise NotFound(N_("No local user named %(name)s."), name=username)
        return user

    async def set_password(self, username: str, password: str) -> None:
        """The admin's reset (`gapo user set-password`): every session of the user ends."""
        user = await self._user(username)
        await self._replace_password(user, password, keep_token=None)

    async def change_password(
        self, user_id: int, current: str, new: str, *, keep_token: str | None
    ) -> None:
        """The user's own change: the current password first; other sessions end.

        Whoever knew the old password (or holds a stolen cookie) is logged out everywhere;
        only the session holding `keep_token`, the one making the change, stays.
        """
        user = await self._confirmed(user_id, current)
        await self._replace_password(user, new, keep_token=keep_token)

    async def change_email(self, user_id: int, current: str, email: str) -> str:
        """The user's own email change, confirmed with the password; the new address.

        The password, because whoever holds a stolen cookie could otherwise take the
        account over through the address a reset would go to.
        """
        new = self._email(email)
        user = await self._confirmed(user_id, current)
        if new == user["email"]:
            return new
        # No check that another user gave it: that answer would be an oracle too.
        await users_q.set_fields(self.db, user_id, {"email": new})
        return new

    async def confirm_password(self, user_id: int, current: str) -> UserRow:
        """The user, once `current` is their password (for actions in other rooms, such as a
        move); throttled like a login."""
        return await self._confirmed(user_id, current)

    async def _confirmed(self, user_id: int, current: str) -> UserRow:
        """The user, once `current` is their password; counted like a failed login if not."""
        user = await users_q.get_by_id(self.db, user_id)
        if user is None:
            raise NotFound()
        # Someone holding a stolen cookie must not get unlimited guesses here either.
        key = account_key(user_id, "")
        if self.login_throttle is not None:
            await self.login_throttle.check(key, None)
        if not await self.passwords.verify(user["password_hash"], current):
            if self.login_throttle is not None:
                await self.login_throttle.failed(key, None)
            raise NotAuthenticated(N_("The current password is not right."), field="current")
        return user

    async def _replace_password(self, user: Row, password: str, *, keep_token: str | None) -> None:
        await self.passwords.check(password, _known_words(user["username"], user["email"]))
        password_hash = await self.passwords.hash(password)
        keep = token_hash(keep_token) if keep_token else None
        async with self.db.transaction() as tx:
            await users_q.set_fields(tx, user["user_id"], {"password_hash": password_hash})
            await sessions_q.delete_for_user(tx, user["user_id"], except_hash=keep)

    async def promote(self, username: str, role: str = "admin") -> None:
        user = await self._user(username)
        await users_q.set_fields(self.db, user["user_id"], {"role": role})

    async def approve(self, username: str) -> None:
        user = await self._user(username)
        await users_q.set_fields(self.db, user["user_id"], {"approved": 1})

    async def suspend(self, username: str) -> None:
        """`gapo user suspend`: the same change as the admin page's (without its audit)."""
        user = await self._user(username)
        async with self.db.transaction() as tx:
            await self.set_suspension(tx, user["account_id"], user["user_id"], suspended=True)

    async def set_suspension(
        self, tx: Transaction, account_id: int, user_id: int | None, *, suspended: bool
    ) -> None:
        """The one writer of a suspension, in the caller's transaction: the column, the
        end of a local person's sessions, the Update(Person) for followers elsewhere, and
        the cached actor documents dropped."""
        await accounts_q.set_moderation(
            tx, account_id, {"suspended_at": now() if suspended else None}
        )
        if suspended and user_id is not None:
            await sessions_q.delete_for_user(tx, user_id)
        if user_id is not None and self.profile_updates is not None:
            # As Mastodon does: an Update of the actor tells followers elsewhere, flagged
            # `suspended` (they hide the account), or without the flag once it is lifted.
            await self.profile_updates.enqueue_update(tx, account_id)
        self._changed(tx)

    async def delete(self, username: str) -> None:
        """The admin's deletion (`gapo user delete`): as the person's own, without a password."""
        user = await self._user(username)
        await self._deletion().request(user["account_id"], by="admin")

    async def delete_own(self, user_id: int, current: str) -> None:
        """The person's own deletion from settings, confirmed with the password."""
        user = await self._confirmed(user_id, current)
        await self._deletion().request(user["account_id"], by="self")

    def _deletion(self) -> AccountDeletion:
        if self.deletion is None:
            raise Forbidden(N_("Accounts cannot be deleted here."))
        return self.deletion

    def _changed(self, tx: Transaction) -> None:
        """Cached documents of local accounts go once `tx` commits (never if it rolls back)."""
        if self.changes is not None:
            tx.after_commit(self.changes.bump)

    async def list_users(self) -> list[UserRow]:
        return await users_q.list_all(self.db)

    async def create_invite(
        self,
        *,
        max_uses: int = 1,
        expires_in: int | None = 7 * 86400,
        created_by: int | None = None,
    ) -> str:
        code = secrets.token_urlsafe(12)
        ts = now()
        await invites_q.insert_invite(
            self.db,
            invite_id=self.ids.next_id(),
            code=code,
            created_by=created_by,
            now=ts,
            expires_at=ts + expires_in if expires_in else None,
            max_uses=max_uses,
        )
        return code

    async def public_key(self, account_id: int) -> KeyPairRow | None:
        """The account's key pair; made now for a local account that has none yet."""
        return await self.keys.for_account(account_id)

    async def has_admin(self) -> bool:
        return await users_q.admin_exists(self.db)

    async def account(self, account_id: int) -> AccountRow:
        account = await accounts_q.get_by_id(self.db, account_id)
        if account is None:
            raise NotFound()
        return account


def _known_words(username: str, email: str) -> tuple[str, ...]:
    """What a guesser knows of the person, for the password strength estimate."""
    if not email:
        return (username,)
    return (username, email, email.split("@")[0])
