"""Secrets at rest (integration API keys, webhook secrets), encrypted with a key derived from
BANTICO_SECRET_KEY."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bantico.kit.errors import BanticoError


class SecretKeyMissing(BanticoError):
    status_code = 503
    code = "secret_key_missing"


class CannotDecrypt(BanticoError):
    status_code = 500
    code = "cannot_decrypt"


def _fernet(secret_key: str | None) -> Fernet:
    if not secret_key:
        raise SecretKeyMissing(
            "BANTICO_SECRET_KEY is not set; set it to a random string of 16+ characters "
            "(`bantico serve` makes one in ./bantico.secret when it is missing)"
        )
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"bantico/secrets-at-rest/v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(secret_key: str | None, plaintext: str) -> str:
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def decrypt(secret_key: str | None, ciphertext: str) -> str:
    try:
        return _fernet(secret_key).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise CannotDecrypt(
            "stored secrets cannot be decrypted: BANTICO_SECRET_KEY changed since they were "
            "saved; restore it or reconnect the integration"
        ) from None
