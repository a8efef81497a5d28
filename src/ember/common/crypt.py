"""Secrets kept in the database, encrypted with ``[DEFAULT] auth_encryption_key``.

The blob is a Fernet token (AES-128-CBC with an HMAC-SHA256 over it, from the
``cryptography`` library): a wrong key or a changed byte is refused, never decrypted into
something else. Fernet wants 32 random bytes; the configured key is a string an operator
typed, of any length. HKDF-SHA256 turns it into the 32 bytes Fernet needs, the same for
the same string in every process (heat-manage, heat-engine, heat-api-cfn), so a key of
another length still works and the key's characters are not used as key bytes directly.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ember.common.errors import DecryptionFailed

# Binds the derived key to this one use: the same configured string used for something
# else later derives another key.
_PURPOSE = b"ember auth_encryption_key: stored secrets"


@functools.lru_cache(maxsize=8)
def _fernet(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(plain: str, key: str) -> str:
    """``plain`` encrypted with ``key``, as ASCII text fit for a text column."""
    return _fernet(key).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(blob: str, key: str) -> str:
    """What ``encrypt`` was given; ``DecryptionFailed`` if ``key`` is not the key it was
    encrypted with or ``blob`` was changed."""
    try:
        return _fernet(key).decrypt(blob.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionFailed() from exc
