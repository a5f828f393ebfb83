"""Password hashing with argon2id.

Parameters are OWASP's recommended argon2id configuration (19 MiB, 2 passes, 1 lane)
rather than argon2-cffi's default (64 MiB, 3 passes, 4 lanes): about a fifth of the CPU per
login, which matters on the small 1–2 core machines chatdesk targets, while a stolen hash
still costs an attacker tens of milliseconds and 19 MiB per guess. Older hashes are
upgraded at the next good login (``needs_rehash``). Hashing is deliberately slow, so
callers on the event loop run these functions in a worker thread (argon2-cffi releases the
GIL while hashing). ``dummy_hash()`` lets a login for an unknown
email do the same work as one for a known email, so response time does not reveal which
emails have accounts.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_CHARS = 8  # below this a password falls to a dictionary attack in minutes
MAX_PASSWORD_CHARS = 1024  # argon2 pre-hashes, but unbounded input is still a cheap DoS


ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19_456
ARGON2_PARALLELISM = 1


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM
    )


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
