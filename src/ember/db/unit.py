"""One unit of work: a transaction and the repositories that work inside it.

Engine logic that must be atomic is written as a plain function of a ``UnitOfWork`` and
run by ``Database.run``; it reads and changes state only through the repositories, so no
SQL lives outside this package.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ember.db.credentials import Ec2CredentialRepository
from ember.db.events import EventRepository
from ember.db.resources import ResourceRepository
from ember.db.services import ServiceRepository
from ember.db.snapshots import SnapshotRepository
from ember.db.software import SoftwareRepository
from ember.db.stacks import StackRepository
from ember.db.traversals import TraversalRepository


class UnitOfWork:
    """The repositories of one transaction. Made by ``Database``; never kept beyond it."""

    __slots__ = (
        "ec2_credentials",
        "events",
        "resources",
        "services",
        "session",
        "snapshots",
        "software",
        "stacks",
        "traversals",
    )

    def __init__(self, session: Session) -> None:
        self.session = session
        self.events = EventRepository(session)
        self.stacks = StackRepository(session, self.events)
        self.resources = ResourceRepository(session)
        self.traversals = TraversalRepository(session)
        self.services = ServiceRepository(session)
        self.software = SoftwareRepository(session)
        self.snapshots = SnapshotRepository(session)
        self.ec2_credentials = Ec2CredentialRepository(session)

    def flush(self) -> None:
        """Write what is still buffered (events); the runner calls this before commit."""
        self.events.flush()
        self.session.flush()
