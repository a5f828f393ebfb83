"""Configuration: one pydantic-settings ``Settings`` built by the CLI and passed to ``create_app``.

Names are a contract (``docs/configuration`` in the README): env prefix ``CHATDESK_``, an optional
``.env`` file, and CLI flags override both. Durations end in ``_S`` and are seconds.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from chatdesk.bot.engine import (
    DEFAULT_ANSWER_THRESHOLD,
    DEFAULT_MARGIN,
    DEFAULT_SUGGEST_THRESHOLD,
    BotSettings,
)
from chatdesk.bot.semantic import SEMANTIC_EXTRA_HINT, SemanticMode, semantic_available
from chatdesk.channels.ratelimit import VISITOR_BURST, VISITOR_FRAMES_PER_S

SUPPORTED_LANGUAGES = ("en", "cs", "sk", "pl", "et", "lv")


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of chatdesk. Defaults give a working embedded server."""

    model_config = SettingsConfigDict(
        env_prefix="CHATDESK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    database_url: str = "sqlite+aiosqlite:///chatdesk.db"
    redis_url: str | None = None
    # Prefix of every Redis channel and key: deployments sharing one Redis stay apart.
    redis_namespace: str = Field(default="chatdesk", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
    faq_dir: Path | None = None
    languages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(SUPPORTED_LANGUAGES)
    )
    default_language: str = "en"
    secret_key: SecretStr | None = None
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    offer_timeout_s: float = Field(default=20, gt=0)
    presence_grace_s: float = Field(default=30, ge=0)
    heartbeat_s: float = Field(default=20, gt=0)
    max_message_chars: int = Field(default=4000, ge=1)
    idle_close_s: float = Field(default=1800, gt=0)
    language_fallback_s: float = Field(default=60, ge=0)
    visitor_token_ttl_s: int = Field(default=2_592_000, gt=0)
    agent_token_ttl_s: int = Field(default=43_200, gt=0)
    rate_limits: Literal["on", "off"] = "on"
    # A visitor connection's token bucket: frames per second, and how many may be saved up.
    visitor_rate_per_s: float = Field(default=VISITOR_FRAMES_PER_S, gt=0)
    visitor_rate_burst: int = Field(default=int(VISITOR_BURST), ge=1)
    bot_answer_threshold: float = Field(default=DEFAULT_ANSWER_THRESHOLD, ge=0, le=1)
    bot_suggest_threshold: float = Field(default=DEFAULT_SUGGEST_THRESHOLD, ge=0, le=1)
    bot_margin: float = Field(default=DEFAULT_MARGIN, ge=0, le=1)
    bot_semantic: SemanticMode = "auto"
    business_hours: str = ""
    timezone: str = "UTC"
    canned_replies_file: Path | None = None
    workers: int = Field(default=1, ge=1)
    log_level: str = "info"

    @field_validator("languages", "allowed_origins", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        normalized = [code.lower().split("-")[0] for code in value]
        unknown = sorted(set(normalized) - set(SUPPORTED_LANGUAGES))
        if unknown:
            raise ValueError(f"unsupported language(s) {', '.join(unknown)}")
        if not normalized:
            raise ValueError("at least one language is required")
        return list(dict.fromkeys(normalized))

    @field_validator("redis_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("allowed_origins")
    @classmethod
    def _strip_slash(cls, value: list[str]) -> list[str]:
        return [origin.rstrip("/") for origin in value]

    @model_validator(mode="after")
    def _check(self) -> Settings:
        self.default_language = self.default_language.lower().split("-")[0]
        if self.default_language not in self.languages:
            raise ValueError(
                f"default_language {self.default_language!r} is not one of languages "
                f"{','.join(self.languages)}"
            )
        if self.bot_suggest_threshold > self.bot_answer_threshold:
            raise ValueError("bot_suggest_threshold must not exceed bot_answer_threshold")
        if self.bot_semantic == "on" and not semantic_available():
            raise ValueError(f"bot_semantic=on {SEMANTIC_EXTRA_HINT}")
        self.database_url = normalize_database_url(self.database_url)
        return self

    @property
    def liveness_ttl_s(self) -> float:
        """How long a socket counts as alive without a refresh: three heartbeats, so one
        late refresh (a busy process, a Redis blip) does not make anyone look gone."""
        return self.heartbeat_s * 3

    @property
    def scale_out(self) -> bool:
        """Scale-out mode: a shared database (not SQLite) and Redis for fan-out."""
        return self.redis_url is not None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def bot_settings(self) -> BotSettings:
        """The FAQ engine's part of the settings."""
        return BotSettings(
            languages=tuple(self.languages),
            default_language=self.default_language,
            answer_threshold=self.bot_answer_threshold,
            suggest_threshold=self.bot_suggest_threshold,
            margin=self.bot_margin,
            semantic=self.bot_semantic,
        )

    def resolved_faq_dir(self) -> Path:
        """``FAQ_DIR`` when set, else ``./faq`` when present, else the packaged demo FAQ."""
        if self.faq_dir is not None:
            return self.faq_dir
        local = Path("faq")
        if local.is_dir():
            return local
        return packaged_path("faq")


def normalize_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite:///`` URLs and pick the async drivers."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def packaged_path(name: str) -> Path:
    """Where ``faq/`` or ``web_widget/`` live: inside the wheel, or at the checkout's root."""
    package_root = Path(__file__).resolve().parent
    installed = package_root / "_data" / name
    if installed.is_dir():
        return installed
    return package_root.parent.parent / name


def generate_secret() -> str:
    return secrets.token_urlsafe(48)
