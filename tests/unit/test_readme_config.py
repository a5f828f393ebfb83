"""The README's configuration table names every setting with its real default."""

from __future__ import annotations

import re
from pathlib import Path

from chatdesk.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `CHATDESK_([A-Z0-9_]+)` \| ([^|]*) \|", re.MULTILINE)


def _documented() -> dict[str, str]:
    return {name.lower(): default.strip() for name, default in ROW.findall(README.read_text())}


def test_every_setting_is_documented() -> None:
    missing = set(Settings.model_fields) - set(_documented())
    assert not missing, f"settings missing from the README: {sorted(missing)}"


def test_documented_scalar_defaults_are_the_real_ones() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    for name, documented in _documented().items():
        value = getattr(settings, name)
        literal = documented.strip("`")
        if isinstance(value, bool) or value is None or not documented.startswith("`"):
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert float(literal) == float(value), name
        elif isinstance(value, str):
            assert literal == value, name
        elif isinstance(value, list):
            assert literal == ",".join(value), name
