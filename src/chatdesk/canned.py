"""The team's canned replies: a small YAML file next to the FAQ, read on every request
(it is tiny and edited by hand, so changes show without a restart)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatdesk.errors import ConfigError

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "canned_replies.yaml"


class CannedReply(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    text: dict[str, str]


class CannedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    replies: list[CannedReply] = Field(default_factory=list)


def load_canned(path: Path | None) -> list[CannedReply]:
    source = path or DEFAULT_FILE
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        return CannedFile.model_validate(data).replies
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"canned replies file {source}: {exc}") from exc


def replies_for(replies: list[CannedReply], lang: str, default_lang: str) -> list[dict[str, str]]:
    out = []
    for reply in replies:
        text = (
            reply.text.get(lang)
            or reply.text.get(default_lang)
            or next(iter(reply.text.values()), "")
        )
        out.append({"id": reply.id, "title": reply.title, "text": text})
    return out
