"""argon2 password hashing: verification, refusal, and upgrading old hashes."""

from __future__ import annotations

from argon2 import PasswordHasher

from chatdesk.accounts import passwords


def test_hash_verifies_only_the_same_password() -> None:
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "correct horse batterY")


def test_unreadable_hash_never_verifies_and_needs_rehash() -> None:
    assert not passwords.verify_password("plain-text-password", "plain-text-password")
    assert passwords.needs_rehash("plain-text-password")


def test_hash_with_other_parameters_needs_rehash() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("secret password")
    assert passwords.verify_password(old, "secret password")
    assert passwords.needs_rehash(old)
    assert not passwords.needs_rehash(passwords.hash_password("secret password"))


def test_dummy_hash_is_a_real_hash_that_rejects_guesses() -> None:
    assert passwords.dummy_hash().startswith("$argon2id$")
    assert not passwords.verify_password(passwords.dummy_hash(), "")
