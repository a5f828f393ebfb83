"""The secret key that signs tokens.

Embedded mode generates one on first start and keeps it next to the SQLite database
(``<database>.secret``, mode 0600), so tokens survive restarts. Scale-out mode refuses to
start without ``CHATDESK_SECRET_KEY``: every process must sign with the same key.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

from chatdesk.config import Settings, generate_secret
from chatdesk.errors import ConfigError


def secret_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).with_suffix(".secret")


def resolve_secret_key(settings: Settings) -> str:
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < 16:
            raise ConfigError("CHATDESK_SECRET_KEY must be at least 16 characters")
        return value
    path = secret_path(settings.database_url)
    if settings.scale_out or path is None:
        raise ConfigError(
            "CHATDESK_SECRET_KEY is required in scale-out mode (every process must share it)"
        )
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = generate_secret()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret
