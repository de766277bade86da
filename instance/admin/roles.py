"""Who may do what in the admin pages: the two staff roles and their rights.

`admin` may do everything. `moderator` handles people and reports but does not run the
instance: no instance settings or registration mode, no invite codes, no removing or
importing domain blocks (adding one is allowed: a moderator must be able to stop an
attack at once; undoing it is an admin's call). Neither role may act on an admin, and a
moderator may not act on another moderator.
"""

from __future__ import annotations

from typing import Literal

Permission = Literal[
    "view",  # the dashboard, accounts, reports, federation health, the audit log
    "moderate",  # account actions, resolving reports
    "block_domain",  # adding or tightening a domain block
    "unblock_domain",  # removing a domain block, importing a block list
    "registrations",  # registration mode, pause, invite codes
    "settings",  # instance name, description, rules, terms, language
]

STAFF_ROLES = ("moderator", "admin")
RIGHTS: dict[str, frozenset[Permission]] = {
    "admin": frozenset(
        ("view", "moderate", "block_domain", "unblock_domain", "registrations", "settings")
    ),
    "moderator": frozenset(("view", "moderate", "block_domain")),
}
# How senior a role is: one may act only on accounts of a lower rank.
RANK = {"user": 0, "moderator": 1, "admin": 2}


def is_staff(role: str | None) -> bool:
    return role in STAFF_ROLES


def may(role: str | None, permission: Permission) -> bool:
    return permission in RIGHTS.get(role or "", frozenset())


def may_act_on(role: str | None, target_role: str | None) -> bool:
    """A remote account (no role) ranks as a user."""
    return RANK.get(role or "", 0) > RANK.get(target_role or "user", 0)
