"""Credential operations: the EC2-style key pair heat-api-cfn checks a signature with, and
the signal credential heat-api checks a resource's token with."""

from __future__ import annotations

from ember.db.database import Database
from ember.db.models import Ec2Credential as Ec2CredentialRow
from ember.db.unit import UnitOfWork
from ember.rpc.api import Ec2Credential


class CredentialOps:
    """Contract: answers with the stored record as it is (the secret still encrypted: the
    API decrypts it, so the secret in the clear never crosses the message bus)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def find_ec2_credential(self, access: str) -> Ec2Credential | None:
        # Asked before the caller is known (the signature is what proves who it is).
        return await self.db.read(_find, access)

    async def find_signal_token(self, token_digest: str) -> Ec2Credential | None:
        return await self.db.read(_find_token, token_digest)


def _find(uow: UnitOfWork, access: str) -> Ec2Credential | None:
    row = uow.ec2_credentials.by_access(access)
    return None if row is None else _view(row)


def _find_token(uow: UnitOfWork, digest: str) -> Ec2Credential | None:
    row = uow.ec2_credentials.by_token_digest(digest)
    return None if row is None else _view(row)


def _view(row: Ec2CredentialRow) -> Ec2Credential:
    return {
        "access": row.access,
        "secret": row.secret,
        "project_id": row.project_id,
        "user_id": row.user_id,
        "user_name": row.user_name,
        "roles": [str(role) for role in row.roles],
        "resource_id": row.resource_id,
        "stack_id": row.stack_id,
    }
