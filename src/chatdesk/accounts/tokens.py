"""Signed, expiring tokens for visitors and agents (HMAC-SHA256 over a compact JSON body).

A token is ``base64url(body).base64url(mac)``. The body names its kind (``visitor`` or
``agent``), subject, expiry and, for agents, the login session, so logout revokes it. Tokens
are bearer secrets: they travel in the first websocket frame, a header or an HttpOnly
cookie, never in a URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

TokenKind = Literal["visitor", "agent"]


class InvalidTokenError(ValueError):
    """Malformed, forged, of the wrong kind, or expired."""


@dataclass(frozen=True, slots=True)
class Claims:
    kind: TokenKind
    subject: str
    expires_at: datetime
    session_id: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("secret key must be at least 16 characters")
        self._key = hashlib.sha256(b"chatdesk-token:" + secret.encode()).digest()

    def issue(
        self,
        kind: TokenKind,
        subject: str,
        *,
        now: datetime,
        ttl_s: float,
        session_id: str | None = None,
    ) -> tuple[str, datetime]:
        expires_at = now + timedelta(seconds=ttl_s)
        body = {"k": kind, "s": subject, "e": int(expires_at.timestamp())}
        if session_id is not None:
            body["i"] = session_id
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}", expires_at.replace(microsecond=0)

    def verify(self, token: str, kind: TokenKind, *, now: datetime) -> Claims:
        payload, _, mac = token.partition(".")
        if not payload or not mac or not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidTokenError("bad signature")
        try:
            body = json.loads(_unb64(payload))
            claims = Claims(
                kind=body["k"],
                subject=str(body["s"]),
                expires_at=datetime.fromtimestamp(int(body["e"]), tz=now.tzinfo),
                session_id=body.get("i"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidTokenError("malformed token") from exc
        if claims.kind != kind:
            raise InvalidTokenError("wrong kind of token")
        if claims.expires_at <= now:
            raise InvalidTokenError("token expired")
        return claims

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:24])
