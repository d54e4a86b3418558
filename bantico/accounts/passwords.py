"""Password hashing with Argon2id."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's Password Storage Cheat Sheet minimum for Argon2id (19 MiB, 2 passes, 1 lane): strong
# against offline guessing while a login stays cheap for a small box (2 cores) that must not be
# easy to overload with login attempts. Hashes made with other parameters are upgraded on login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("bantico: no such user")


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches. With no stored hash, a dummy one is checked all the same
    so that an unknown email takes as long to refuse as a wrong password."""
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
