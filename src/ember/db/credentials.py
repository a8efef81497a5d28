"""EC2-style key pairs: stored by heat-manage, found by access key for heat-api-cfn; and
signal credentials, a key pair and a bearer token scoped to one resource, made by the
engine for the resources something outside signals.

Secrets and tokens are stored as given (encrypted by the caller, ``ember.common.crypt``);
this repository never sees them in the clear. A token is found by its SHA-256.
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

    def add_for_resource(
        self,
        *,
        access: str,
        secret: str,
        token: str,
        token_digest: str,
        project_id: str,
        stack_id: str,
        resource_id: int,
        user_name: str,
    ) -> Ec2Credential:
        """The signal credential of resource ``resource_id``, acting as a user of its own."""
        row = Ec2Credential(
            id=str(uuid.uuid4()),
            access=access,
            secret=secret,
            token=token,
            token_digest=token_digest,
            project_id=project_id,
            user_id=f"resource-{resource_id}",
            user_name=user_name,
            # Heat's role of the users it makes for resources: the policy knows it.
            roles=["heat_stack_user"],
            stack_id=stack_id,
            resource_id=resource_id,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def of_resource(self, resource_id: int) -> Ec2Credential | None:
        return self.session.execute(
            select(Ec2Credential).where(Ec2Credential.resource_id == resource_id)
        ).scalar_one_or_none()

    def by_token_digest(self, digest: str) -> Ec2Credential | None:
        return self.session.execute(
            select(Ec2Credential).where(Ec2Credential.token_digest == digest)
        ).scalar_one_or_none()

    def revoke_resources(self, resource_ids: Sequence[int]) -> None:
        """The signal credentials of these resources stop working (they are gone)."""
        if resource_ids:
            self.session.execute(
                delete(Ec2Credential).where(Ec2Credential.resource_id.in_(sorted(resource_ids)))
            )

    def revoke_stacks(self, stack_ids: Sequence[str]) -> None:
        if stack_ids:
            self.session.execute(
                delete(Ec2Credential).where(Ec2Credential.stack_id.in_(sorted(stack_ids)))
            )

    def by_access(self, access: str) -> Ec2Credential | None:
        return self.session.execute(
            select(Ec2Credential).where(Ec2Credential.access == access)
        ).scalar_one_or_none()

    def list(self, project_id: str, user_id: str | None = None) -> builtins.list[Ec2Credential]:
        """The project's own key pairs (only ``user_id``'s if given), oldest first; the
        engine's signal credentials are not among them."""
        query = select(Ec2Credential).where(
            Ec2Credential.project_id == project_id, Ec2Credential.resource_id.is_(None)
        )
        if user_id is not None:
            query = query.where(Ec2Credential.user_id == user_id)
        query = query.order_by(Ec2Credential.created_at, Ec2Credential.id)
        return builtins.list(self.session.execute(query).scalars())

    def delete(self, project_id: str, access: str) -> bool:
        """Whether the project had a key pair ``access`` (now deleted)."""
        result = self.session.execute(
            delete(Ec2Credential).where(
                Ec2Credential.project_id == project_id,
                Ec2Credential.access == access,
                Ec2Credential.resource_id.is_(None),
            )
        )
        return affected(result) > 0
