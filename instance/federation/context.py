"""What inbox handlers work with: one bundle, passed in, so tests can build it directly."""

from __future__ import annotations

from dataclasses import dataclass

from instance.db import Database
from instance.federation.notes_in import RemoteNotes
from instance.federation.outbox import Outbox
from instance.federation.relationships import Relationships
from instance.federation.remote_actors import RemoteActors
from instance.federation.urls import LocalUrls
from instance.feeds.notifications import NotificationService
from instance.ids import IdGenerator


@dataclass(frozen=True)
class FederationContext:
    db: Database
    ids: IdGenerator
    urls: LocalUrls
    actors: RemoteActors
    notes: RemoteNotes
    relationships: Relationships
    outbox: Outbox
    notifications: NotificationService
