"""axe-core finds no serious or critical accessibility violation in the widget or the console.

axe (from npm, see conftest) is injected into the page and run over the whole document,
shadow roots included, in each state a person meets: the closed launcher, a bot answer with
its feedback buttons, the leave-a-message form; the console's login, a conversation with the
transfer form and quick replies open, and the supervisor view.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.browser.pages import Console, TabFactory, Widget
from tests.browser.steps import demo_visitor
from tests.support.server import LiveServer

BLOCKING_IMPACTS = {"serious", "critical"}
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' >>> ')).slice(0, 5),
  }));
}"""


async def blocking_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=axe_source)
    violations: list[dict[str, Any]] = await page.evaluate(RUN_AXE)
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


async def test_widget_has_no_serious_accessibility_violations(
    live_server: LiveServer, tabs: TabFactory, axe_source: str
) -> None:
    await live_server.create_agent(email="jana@velora.example", name="Jana Nováková")
    tab = await tabs(name="visitor", locale="en-US")
    await tab.page.goto(f"{live_server.base_url}/demo")
    widget = Widget(tab.page)
    await expect(widget.launcher).to_be_visible()
    assert await blocking_violations(tab.page, axe_source) == []

    await widget.open()
    await widget.say("How much does shipping cost?")
    await expect(widget.q(".fb button")).to_have_count(2)
    assert await blocking_violations(tab.page, axe_source) == []

    await widget.ask_for_person()  # nobody is online: the leave-a-message form
    await expect(widget.q("#cd-email")).to_be_visible()
    assert await blocking_violations(tab.page, axe_source) == []


async def test_console_has_no_serious_accessibility_violations(
    live_server: LiveServer, tabs: TabFactory, axe_source: str
) -> None:
    base = live_server.base_url
    await live_server.create_agent(
        email="eva@velora.example", name="Eva Dvořáková", role="supervisor"
    )
    await live_server.create_agent(email="petr@velora.example", name="Petr Svoboda")
    console = Console((await tabs(name="supervisor")).page, base)
    await console.page.goto(f"{base}/console/")
    await expect(console.page.locator("#login-form")).to_be_visible()
    assert await blocking_violations(console.page, axe_source) == []

    await console.login("eva@velora.example")
    await console.set_status("online")
    visitor = await demo_visitor(live_server, tabs)
    await visitor.say("How much does shipping cost?")
    await visitor.ask_for_person()
    await expect(console.offers).to_have_count(1)
    assert await blocking_violations(console.page, axe_source) == []

    await console.accept_offer()
    await visitor.say("Thanks, and can I pay by card?")
    await expect(console.messages("visitor").last).to_have_text("Thanks, and can I pay by card?")
    await console.page.click("#quick-toggle")
    await console.page.click("#act-transfer")
    await expect(console.page.locator("#transfer-form")).to_be_visible()
    assert await blocking_violations(console.page, axe_source) == []

    await console.page.click("#tab-supervisor")
    await expect(console.page.locator("#sv-agents")).to_contain_text("Petr Svoboda")
    assert await blocking_violations(console.page, axe_source) == []
