"""Secrets encrypted with auth_encryption_key: they come back only with the same key and
only as they were stored."""

from __future__ import annotations

import base64

import pytest

from ember.common.crypt import decrypt, encrypt
from ember.common.errors import DecryptionFailed
from ember.common.settings import HEAT_DEFAULT_ENCRYPTION_KEY

KEY = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("plain", ["", "3f2a9c0e5b6d4e7f8a9b0c1d2e3f4a5b", "wéb-🔥\n" * 50])
def test_round_trip(plain: str) -> None:
    blob = encrypt(plain, KEY)
    assert plain == "" or plain not in blob
    assert blob.isascii()
    assert decrypt(blob, KEY) == plain


def test_the_same_secret_encrypts_differently_each_time() -> None:
    assert encrypt("secret", KEY) != encrypt("secret", KEY)


def test_keys_of_any_length_work() -> None:
    for key in (HEAT_DEFAULT_ENCRYPTION_KEY, "short", "x" * 200):
        assert decrypt(encrypt("secret", key), key) == "secret"


def test_a_wrong_key_is_refused() -> None:
    blob = encrypt("secret", KEY)
    with pytest.raises(DecryptionFailed, match="auth_encryption_key"):
        decrypt(blob, HEAT_DEFAULT_ENCRYPTION_KEY)
    # One character off is another key.
    with pytest.raises(DecryptionFailed):
        decrypt(blob, KEY[:-1] + "0")


def _flip_one_byte(blob: str, at: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(blob))
    raw[at] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode("ascii")


@pytest.mark.parametrize("at", [0, 20, -40, -1])
def test_a_damaged_blob_is_refused(at: int) -> None:
    blob = encrypt("secret", KEY)
    with pytest.raises(DecryptionFailed):
        decrypt(_flip_one_byte(blob, at), KEY)


@pytest.mark.parametrize("blob", ["", "not a token", "ünïcode", "gAAAAA"])
def test_what_is_not_a_blob_is_refused(blob: str) -> None:
    with pytest.raises(DecryptionFailed):
        decrypt(blob, KEY)


def test_the_error_is_not_shown_to_callers() -> None:
    assert DecryptionFailed.safe is False
