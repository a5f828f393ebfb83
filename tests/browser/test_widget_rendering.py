"""Bot answers render the FAQ's Markdown subset, and nothing else becomes HTML.

The FAQ here is this module's own: one entry whose answer mixes every Markdown feature with
raw HTML and a ``javascript:`` link, so the test sees exactly what the widget and the
console do with such text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.pages import TabFactory
from tests.browser.steps import demo_visitor, hand_off, online_agent
from tests.support.server import LiveServer

ANSWER = (
    "We stock **five** frame sizes:\\n"
    "- XS to *XL*\\n"
    "- custom sizes on request\\n"
    "\\n"
    "See [the size guide](https://velora.example/sizes) or [this](javascript:alert(1)). "
    "Raw <img src=x onerror=alert(1)> stays text."
)
FAQ = f"""entries:
  - id: frame-sizes
    questions:
      en: ["Which frame sizes do you stock?", "frame sizes"]
    answer:
      en: "{ANSWER}"
"""


@pytest.fixture
def server_env(server_env: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "sizes.yaml").write_text(FAQ, encoding="utf-8")
    return {**server_env, "faq_dir": faq_dir}


async def test_bot_answer_renders_markdown_but_never_html_or_script_links(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    widget = await demo_visitor(live_server, tabs)
    await widget.say("Which frame sizes do you stock?")
    answer = widget.q(".m.bot .b").last
    await expect(answer.locator("strong")).to_have_text("five")
    await expect(answer.locator("li")).to_have_text(["XS to XL", "custom sizes on request"])
    await expect(answer.locator("li em")).to_have_text("XL")
    links = answer.locator("a")
    await expect(links).to_have_count(1)
    await expect(links).to_have_attribute("href", "https://velora.example/sizes")
    await expect(links).to_have_attribute("target", "_blank")
    await expect(links).to_have_attribute("rel", "noopener noreferrer nofollow")
    await expect(answer).to_contain_text("[this](javascript:alert(1))")
    await expect(answer).to_contain_text("Raw <img src=x onerror=alert(1)> stays text.")
    assert await widget.q("img").count() == 0


async def test_console_shows_the_same_answer_with_the_same_rules(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    jana = await online_agent(live_server, tabs, "jana@velora.example", name="Jana Nováková")
    widget = await demo_visitor(live_server, tabs)
    await hand_off(widget, jana, "Which frame sizes do you stock?")
    answer = jana.messages("bot").last
    await expect(answer.locator("strong")).to_have_text("five")
    await expect(answer.locator("a")).to_have_count(1)
    await expect(answer).to_contain_text("Raw <img src=x onerror=alert(1)> stays text.")
    assert await jana.page.locator("#messages img").count() == 0
