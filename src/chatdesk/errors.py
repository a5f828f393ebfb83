"""The error hierarchy of chatdesk, translated at the edges.

::

    ChatdeskError                       every expected failure; ``code`` is the stable protocol code
    ├── ConfigError                     bad settings: CLI prints ``error: …`` and exits 1
    ├── BadRequestError (bad_frame)     malformed or invalid input
    ├── UnauthorizedError (unauthorized)
    ├── ForbiddenError (forbidden)
    ├── NotFoundError (not_found)
    ├── TooLargeError (too_large)
    ├── RateLimitedError (rate_limited)
    ├── IllegalStateError (illegal_state)   a lifecycle transition that is not allowed now
    ├── OfferExpiredError (offer_expired)
    └── ConflictError (conflict)        e.g. an agent email that already exists

Websocket edges answer ``error {code, message}``; HTTP edges answer 4xx with ``detail``;
the CLI prints one line. Anything else is a bug: logged with context, answered ``internal``
(1011 / 500), never shown as a traceback.
"""

from __future__ import annotations


class ChatdeskError(Exception):
    code = "internal"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(ChatdeskError):
    code = "config"


class BadRequestError(ChatdeskError):
    code = "bad_frame"
    http_status = 400


class UnauthorizedError(ChatdeskError):
    code = "unauthorized"
    http_status = 401


class ForbiddenError(ChatdeskError):
    code = "forbidden"
    http_status = 403


class NotFoundError(ChatdeskError):
    code = "not_found"
    http_status = 404


class TooLargeError(ChatdeskError):
    code = "too_large"
    http_status = 413


class RateLimitedError(ChatdeskError):
    code = "rate_limited"
    http_status = 429


class IllegalStateError(ChatdeskError):
    code = "illegal_state"
    http_status = 409


class OfferExpiredError(ChatdeskError):
    code = "offer_expired"
    http_status = 409


class ConflictError(ChatdeskError):
    code = "conflict"
    http_status = 409
