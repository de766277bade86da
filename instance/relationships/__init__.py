"""Follows, blocks and mutes between accounts, local and remote.

`service.py` reads them (`Relationships`), `writes.py` is the one writer of each action
(`RelationshipWriter`), `mutes.py` keeps mutes, which never federate.
"""

from instance.db.connection import Row

# The row shapes the inbox handlers pass around, named so that they need not import db/.
AccountRow = Row
FollowRow = Row

__all__ = ["AccountRow", "FollowRow"]
