"""What inbox handlers work with: one bundle, passed in, so tests can build it directly."""

from __future__ import annotations

from dataclasses import dataclass

from instance.db import Database
from instance.federation.moves_in import MovedAccounts
from instance.federation.notes_in import RemoteNotes
from instance.federation.remote_actors import RemoteActors
from instance.ids import IdGenerator
from instance.notifications.writer import Notifier
from instance.outbound.outbox import Outbox
from instance.posts.reports import ReportWriter
from instance.relationships.service import Relationships
from instance.relationships.writes import RelationshipWriter
from instance.urls import LocalUrls


@dataclass(frozen=True)
class FederationContext:
    db: Database
    ids: IdGenerator
    urls: LocalUrls
    actors: RemoteActors
    notes: RemoteNotes
    relationships: Relationships
    relationship_writer: RelationshipWriter
    outbox: Outbox
    notifications: Notifier
    # Incoming Flags become reports (issue 17); None where a test builds no report writer.
    reports: ReportWriter | None = None
    # Where accounts moved and the followers' migration (None: Move is ignored).
    moves: MovedAccounts | None = None
