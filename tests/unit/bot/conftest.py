"""Fixtures of the bot tests: the small shop FAQ under data/faq and an engine built on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatdesk.bot.engine import BotEngine, BotSettings
from chatdesk.bot.faq import Faq, load_faq

DATA = Path(__file__).parent / "data"
LANGUAGES = ("en", "cs", "sk", "pl", "et", "lv")


@pytest.fixture(scope="session")
def shop_faq() -> Faq:
    return load_faq(DATA / "faq", languages=LANGUAGES)


@pytest.fixture(scope="session")
def settings() -> BotSettings:
    # The lexical pipeline alone: test_semantic.py covers the semantic extra.
    return BotSettings(languages=LANGUAGES, default_language="en", semantic="off")


@pytest.fixture(scope="session")
def engine(shop_faq: Faq, settings: BotSettings) -> BotEngine:
    return BotEngine.build(shop_faq, settings)
