"""EC2-style key pairs: stored by heat-manage, found by access key for heat-api-cfn.

The secret is stored as given (encrypted by the caller, ``ember.common.crypt``); this
repository never sees it in the clear.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ember.db.bulk import affected
from ember.db.models import Ec2Credential


class Ec2CredentialRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        access: str,
        secret: str,
        project_id: str,
        user_id: str,
        user_name: str,
        roles: Sequence[str],
    ) -> Ec2Credential:
        """A new key pair; ``DuplicateEntry`` (at flush) if ``access`` is taken."""
        row = Ec2Credential(
            id=str(uuid.uuid4()),
            access=access,
            secret=secret,
            project_id=project_id,
            user_id=user_id,
            user_name=user_name,
            roles=builtins.list(roles),
        )
        self.session.add(row)
        self.session.flush()
        return row

    def by_access(self, access: str) -> Ec2Credential | None:
        return self.session.execute(
            select(Ec2Credential).where(Ec2Credential.access == access)
        ).scalar_one_or_none()

    def list(self, project_id: str, user_id: str | None = None) -> builtins.list[Ec2Credential]:
        """The project's key pairs (only ``user_id``'s if given), oldest first."""
        query = select(Ec2Credential).where(Ec2Credential.project_id == project_id)
        if user_id is not None:
            query = query.where(Ec2Credential.user_id == user_id)
        query = query.order_by(Ec2Credential.created_at, Ec2Credential.id)
        return builtins.list(self.session.execute(query).scalars())

    def delete(self, project_id: str, access: str) -> bool:
        """Whether the project had a key pair ``access`` (now deleted)."""
        result = self.session.execute(
            delete(Ec2Credential).where(
                Ec2Credential.project_id == project_id, Ec2Credential.access == access
            )
        )
        return affected(result) > 0
