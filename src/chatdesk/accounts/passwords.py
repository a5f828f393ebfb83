"""Password hashing with argon2id (argon2-cffi's recommended parameters).

Hashing is deliberately slow (tens of milliseconds and tens of MiB) so a stolen database
is expensive to crack; callers on the event loop run these functions in a worker thread
(argon2-cffi releases the GIL while hashing). ``dummy_hash()`` lets a login for an unknown
email do the same work as one for a known email, so response time does not reveal which
emails have accounts.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_CHARS = 8  # below this a password falls to a dictionary attack in minutes
MAX_PASSWORD_CHARS = 1024  # argon2 pre-hashes, but unbounded input is still a cheap DoS


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or an unreadable hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older parameters: re-hash at the next good login."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def dummy_hash() -> str:
    """A real hash of a random-looking value, verified against for unknown emails."""
    return hash_password("chatdesk-timing-equaliser")
