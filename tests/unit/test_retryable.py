"""Which database errors mean "run the transaction again"."""

from __future__ import annotations

from chatdesk.storage.db import is_retryable


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class _Wrapped(Exception):
    def __init__(self, orig: BaseException) -> None:
        super().__init__(str(orig))
        self.orig = orig


def test_deadlock_and_serialization_failure_are_retryable_through_wrappers() -> None:
    assert is_retryable(_Wrapped(_DriverError("40P01")))
    wrapped = _Wrapped(Exception("adapter"))
    wrapped.__cause__ = _DriverError("40001")
    assert is_retryable(wrapped)


def test_other_errors_are_not_retryable() -> None:
    assert not is_retryable(_Wrapped(_DriverError("23505")))  # unique violation
    assert not is_retryable(ValueError("nope"))
