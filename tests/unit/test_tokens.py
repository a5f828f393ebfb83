"""Signed agent/visitor tokens: what verifies and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatdesk.accounts.tokens import InvalidTokenError, TokenSigner

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SECRET = "unit-test-secret-0123456789"


def test_issued_token_verifies_with_its_claims() -> None:
    signer = TokenSigner(SECRET)
    token, expires_at = signer.issue("agent", "agent-1", now=NOW, ttl_s=60, session_id="s-1")
    claims = signer.verify(token, "agent", now=NOW + timedelta(seconds=59))
    assert (claims.kind, claims.subject, claims.session_id) == ("agent", "agent-1", "s-1")
    assert claims.expires_at == expires_at == NOW + timedelta(seconds=60)


def test_visitor_token_has_no_session() -> None:
    signer = TokenSigner(SECRET)
    token, _ = signer.issue("visitor", "v-1", now=NOW, ttl_s=60)
    assert signer.verify(token, "visitor", now=NOW).session_id is None


def test_token_signed_with_another_key_is_refused() -> None:
    token, _ = TokenSigner("another-secret-0123456789").issue("agent", "a", now=NOW, ttl_s=60)
    with pytest.raises(InvalidTokenError, match="signature"):
        TokenSigner(SECRET).verify(token, "agent", now=NOW)


def test_tampered_payload_is_refused() -> None:
    signer = TokenSigner(SECRET)
    token, _ = signer.issue("agent", "agent-1", now=NOW, ttl_s=60, session_id="s")
    forged_payload, _, _ = (
        TokenSigner(SECRET)
        .issue("agent", "agent-2", now=NOW, ttl_s=60, session_id="s")[0]
        .partition(".")
    )
    original_payload, _, original_mac = token.partition(".")
    assert forged_payload != original_payload
    with pytest.raises(InvalidTokenError):
        signer.verify(f"{forged_payload}.{original_mac}", "agent", now=NOW)


@pytest.mark.parametrize("garbage", ["", ".", "abc", "abc.def", "a.b.c", "!!!.???"])
def test_malformed_token_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidTokenError):
        TokenSigner(SECRET).verify(garbage, "agent", now=NOW)


def test_expired_token_is_refused() -> None:
    signer = TokenSigner(SECRET)
    token, _ = signer.issue("agent", "agent-1", now=NOW, ttl_s=60, session_id="s")
    with pytest.raises(InvalidTokenError, match="expired"):
        signer.verify(token, "agent", now=NOW + timedelta(seconds=60))


def test_visitor_token_is_not_an_agent_token() -> None:
    signer = TokenSigner(SECRET)
    token, _ = signer.issue("visitor", "v-1", now=NOW, ttl_s=60)
    with pytest.raises(InvalidTokenError, match="kind"):
        signer.verify(token, "agent", now=NOW)


def test_short_secret_is_rejected() -> None:
    with pytest.raises(ValueError, match="16"):
        TokenSigner("short")
