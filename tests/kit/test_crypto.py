"""Secrets at rest: encrypted with a key derived from BANTICO_SECRET_KEY, readable only with it."""

from __future__ import annotations

import pytest

from bantico.kit.crypto import CannotDecrypt, SecretKeyMissing, decrypt, encrypt

KEY = "a-secret-key-of-the-server-0001"


def test_a_secret_round_trips_and_is_not_stored_in_clear() -> None:
    stored = encrypt(KEY, "dodo_live_sk_123")
    assert "dodo_live_sk_123" not in stored and decrypt(KEY, stored) == "dodo_live_sk_123"
    assert encrypt(KEY, "same") != encrypt(KEY, "same")  # a fresh nonce each time


def test_another_key_cannot_read_it_and_says_what_to_do() -> None:
    stored = encrypt(KEY, "whsec_abc")
    with pytest.raises(CannotDecrypt, match="BANTICO_SECRET_KEY changed"):
        decrypt("another-secret-key-0000000000", stored)
    with pytest.raises(CannotDecrypt):
        decrypt(KEY, stored[:-4] + "AAAA")  # tampered


@pytest.mark.parametrize("missing", [None, ""])
def test_without_a_secret_key_nothing_is_encrypted(missing: str | None) -> None:
    with pytest.raises(SecretKeyMissing, match="BANTICO_SECRET_KEY is not set"):
        encrypt(missing, "x")
