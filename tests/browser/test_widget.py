"""The widget as a visitor meets it: on the demo shop, on hostile pages, on a phone, offline."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.pages import (
    BLOCKABLE_SOCKETS,
    WIDGET,
    HostSite,
    TabFactory,
    Widget,
    embed,
    faq_answer,
    faq_entry_with_question,
    visible_text,
)
from tests.browser.steps import demo_visitor
from tests.conftest import DEMO_FAQ
from tests.support.server import LiveServer


async def test_czech_question_without_diacritics_gets_that_entrys_exact_answer(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    visitor = await tabs(name="visitor", locale="cs-CZ")
    await visitor.page.goto(f"{live_server.base_url}/demo")
    widget = Widget(visitor.page)
    await expect(widget.launcher).to_have_attribute("aria-label", "Otevřít chat")
    await widget.open()
    await expect(widget.header_status).to_have_text("Právě nejsme k dispozici")  # no agent online
    await widget.say("kolik stoji doprava")
    expected = visible_text(faq_answer(DEMO_FAQ, "shipping-cost", "cs"))
    answer = widget.bubbles("bot").last
    await expect(answer).to_have_text(expected, use_inner_text=True)
    await expect(widget.q(".m.bot .fb")).to_contain_text("Pomohlo vám to?")


async def test_hostile_host_stylesheet_neither_hides_nor_restyles_the_widget(
    live_server: LiveServer, tabs: TabFactory, host_site: HostSite
) -> None:
    hostile = (
        """<!doctype html><html><head><style>
      * { font-size: 40px !important; color: red !important; box-sizing: content-box !important;
          line-height: 3 !important; letter-spacing: 9px !important; }
      div, section, button, textarea, header { display: none !important;
          position: static !important; }
      chatdesk-widget { display: none !important; opacity: 0 !important;
          transform: scale(3) !important; }
      html { font-size: 5px; }
    </style></head><body><h1>Hostile host</h1>"""
        + embed(live_server.base_url, lang="en")
        + "</body></html>"
    )
    visitor = await tabs(name="visitor")
    await visitor.page.goto(host_site.show(hostile))
    widget = Widget(visitor.page)
    await expect(widget.launcher).to_be_visible()
    box = await widget.launcher.bounding_box()
    assert box is not None and (round(box["width"]), round(box["height"])) == (60, 60)
    await widget.open()
    panel = await widget.panel.bounding_box()
    assert panel is not None and round(panel["width"]) == 370
    assert await widget.input.evaluate("el => getComputedStyle(el).fontSize") == "15px"
    await widget.say("How much does shipping cost?")
    await expect(widget.bubbles("bot").last).to_contain_text("4.90 EUR")


async def test_widget_adds_no_style_and_no_global_but_its_own_to_the_host_page(
    live_server: LiveServer, tabs: TabFactory, host_site: HostSite
) -> None:
    plain = """<!doctype html><html><head><title>host</title></head><body>
      <p id="para">Host text</p><button id="btn">Host button</button><div id="box">box</div>
    </body></html>"""
    visitor = await tabs(name="visitor")
    await visitor.page.goto(host_site.show(plain))
    snapshot = """() => ({
      styles: ['para', 'btn', 'box', 'body'].map(id => {
        const el = id === 'body' ? document.body : document.getElementById(id);
        const cs = getComputedStyle(el);
        return [cs.font, cs.color, cs.margin, cs.padding, cs.display, cs.boxSizing].join('|');
      }),
      sheets: document.styleSheets.length,
      globals: Object.keys(window).filter(k => !window.__before || !window.__before.includes(k)),
    })"""
    await visitor.page.evaluate(
        "() => { window.__before = Object.keys(window).concat('__before'); }"
    )
    before = await visitor.page.evaluate(snapshot)
    await visitor.page.evaluate(
        """src => { const s = document.createElement('script'); s.src = src;
                   s.dataset.chatdesk = ''; document.body.append(s); }""",
        f"{live_server.base_url}/widget.js",
    )
    await expect(Widget(visitor.page).launcher).to_be_visible()
    after = await visitor.page.evaluate(snapshot)
    assert after["styles"] == before["styles"]
    assert after["sheets"] == before["sheets"]
    assert after["globals"] == ["chatdesk"]
    body_children = await visitor.page.evaluate(
        "() => [...document.body.children].map(e => e.tagName.toLowerCase())"
    )
    assert body_children == ["p", "button", "div", "script", WIDGET]


async def test_on_a_phone_the_open_panel_fills_the_screen(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    visitor = await tabs(
        name="phone", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    await visitor.page.goto(f"{live_server.base_url}/demo")
    widget = Widget(visitor.page)
    await widget.launcher.tap()
    await expect(widget.panel).to_be_visible()
    box = await widget.panel.bounding_box()
    assert box is not None
    assert (round(box["x"]), round(box["y"]), round(box["width"]), round(box["height"])) == (
        0,
        0,
        390,
        844,
    )
    await expect(widget.launcher).to_be_hidden()
    await widget.say("How much does shipping cost?")
    await expect(widget.bubbles("bot").last).to_contain_text("4.90 EUR")
    await widget.q(".hd .x").tap()
    await expect(widget.panel).to_be_hidden()
    await expect(widget.launcher).to_be_visible()


async def test_widget_works_from_the_keyboard_alone(
    live_server: LiveServer, tabs: TabFactory, host_site: HostSite
) -> None:
    visitor = await tabs(name="visitor", locale="en-GB")
    page_html = f"<!doctype html><title>kb</title><body>{embed(live_server.base_url)}</body>"
    await visitor.page.goto(host_site.show(page_html))
    widget = Widget(visitor.page)
    page = visitor.page
    focused_id = (
        "() => { const r = document.querySelector('chatdesk-widget').shadowRoot;"
        " const a = r.activeElement; return a ? (a.id || a.className) : null; }"
    )
    await expect(widget.launcher).to_be_visible()
    await page.keyboard.press("Tab")
    assert await page.evaluate(focused_id) == "launch"
    await page.keyboard.press("Enter")
    await expect(widget.panel).to_be_visible()
    await expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    assert await page.evaluate(focused_id) == "cd-in"
    await page.keyboard.type("How much does shipping cost?")
    await page.keyboard.press("Enter")
    await expect(widget.bubbles("bot").last).to_contain_text("4.90 EUR")
    await page.keyboard.press("Escape")
    await expect(widget.panel).to_be_hidden()
    assert await page.evaluate(focused_id) == "launch"


async def test_js_api_opens_switches_language_and_reports_events(
    live_server: LiveServer, tabs: TabFactory, host_site: HostSite
) -> None:
    html = (
        "<!doctype html><title>api</title><body><script>"
        "window.seen = []; window.chatdesk = []; chatdesk.push(['setLanguage', 'pl']);"
        "addEventListener('chatdesk:ready', () => {"
        "  chatdesk.on('open', () => seen.push('open')).on('close', () => seen.push('close'));"
        "  chatdesk.on('message', m => seen.push('message:' + m.author)); });"
        "</script>"
        + embed(live_server.base_url, color="#ffd500", position="left", title="Velora help")
        + "</body>"
    )
    visitor = await tabs(name="visitor", locale="en-US")
    await visitor.page.goto(host_site.show(html))
    widget = Widget(visitor.page)
    await expect(widget.launcher).to_have_attribute("aria-label", "Otwórz czat")
    launcher_box = await widget.launcher.bounding_box()
    assert launcher_box is not None and launcher_box["x"] < 100  # data-position="left"
    await visitor.page.evaluate("() => chatdesk.open()")
    await expect(widget.panel).to_be_visible()
    await expect(widget.q("h2")).to_have_text("Velora help")
    # A light brand colour gets dark text, so the header stays readable.
    header_color = await widget.q(".hd").evaluate("el => getComputedStyle(el).color")
    assert header_color == "rgb(17, 17, 17)"
    await expect(widget.input).to_have_attribute("placeholder", "Napisz wiadomość…")
    await visitor.page.evaluate("() => chatdesk.setLanguage('et')")
    await expect(widget.input).to_have_attribute("placeholder", "Kirjuta sõnum…")
    await widget.say("How much does shipping cost?")
    await expect(widget.bubbles("bot")).to_have_count(1)
    await visitor.page.evaluate("() => chatdesk.close()")
    await expect(widget.panel).to_be_hidden()
    seen: list[Any] = await visitor.page.evaluate("() => seen")
    assert seen[0] == "open" and seen[-1] == "close"
    assert "message:visitor" in seen and "message:bot" in seen


async def test_messages_typed_while_offline_are_sent_once_after_reconnecting(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    widget = await demo_visitor(live_server, tabs, init_script=BLOCKABLE_SOCKETS)
    await widget.say("hello there")
    await widget.page.evaluate(
        "() => { window.__blocked = true; window.__sockets.forEach(s => s.close()); }"
    )
    await expect(widget.q(".bar[role=status]").last).to_contain_text("Reconnecting")
    for text in ("first while offline", "second while offline"):
        await widget.input.fill(text)
        await widget.input.press("Enter")
    await expect(widget.q(".m.visitor .meta")).to_have_count(2)
    await expect(widget.q(".m.visitor .meta").first).to_have_text("Sending…")
    await widget.page.evaluate("() => { window.__blocked = false; }")
    await expect(widget.q(".m.visitor .meta")).to_have_count(0, timeout=30_000)
    for text in ("hello there", "first while offline", "second while offline"):
        await expect(widget.bubbles("visitor").filter(has_text=text)).to_have_count(1)
    # The server's history agrees: each was stored once, in the order typed.
    await widget.page.reload()
    await expect(widget.panel).to_be_visible()
    await expect(widget.bubbles("visitor")).to_have_text(
        ["hello there", "first while offline", "second while offline"]
    )


# A small bucket that refills slowly: the 60 messages below are refused however slowly a
# loaded machine handles them (each one handled lets the bucket refill meanwhile), and fewer
# than ABUSE_FACTOR x burst in a row, which would close the connection as flooding.
SLOW_BUCKET = {"visitor_rate_per_s": 1.0, "visitor_rate_burst": 10}
RETRY_ATTEMPTS = 30


@pytest.mark.parametrize("server_overrides", [SLOW_BUCKET], ids=["slow_bucket"])
async def test_sending_too_fast_shows_a_gentle_notice_and_refused_messages_can_be_retried(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    widget = await demo_visitor(live_server, tabs)
    await widget.say("How much does shipping cost?")
    await widget.page.evaluate(
        """() => {
          const root = document.querySelector('chatdesk-widget').shadowRoot;
          const input = root.getElementById('cd-in'), form = root.querySelector('form.cmp');
          for (let i = 0; i < 60; i++) {
            input.value = 'Shipping cost ' + i + '?';
            form.requestSubmit();
          }
        }"""
    )
    await expect(widget.q(".err")).to_have_text(
        "You're sending messages too fast. Please wait a moment."
    )
    refused = widget.q(".m.visitor").filter(has=widget.page.locator(".meta button"))
    sending = widget.q(".m.visitor .meta").filter(has_text="Sending…")
    await expect(refused.first).to_contain_text("Not sent.")
    await expect(sending).to_have_count(0)
    before = await refused.count()
    text = await refused.first.locator(".b").inner_text()
    retried = refused.filter(has_text=text)
    for _ in range(RETRY_ATTEMPTS):  # bounded; refused again until the bucket has refilled
        await widget.page.wait_for_timeout(500)  # pacing, not an assertion
        await retried.get_by_role("button", name="Retry").click()
        await expect(sending).to_have_count(0)
        if await retried.count() == 0:
            break
    await expect(refused).to_have_count(before - 1)
    await expect(widget.bubbles("visitor").filter(has_text=text)).to_have_count(1)


async def test_a_vague_question_offers_suggestions_and_choosing_one_answers_it(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    widget = await demo_visitor(live_server, tabs)
    await widget.say("bike")
    choices = widget.q(".sg button")
    await expect(choices.first).to_be_visible()
    question = await choices.first.inner_text()
    entry_id = faq_entry_with_question(DEMO_FAQ, question, "en")
    await choices.first.click()
    await expect(choices.first).to_be_disabled()
    expected = visible_text(faq_answer(DEMO_FAQ, entry_id, "en"))
    await expect(widget.bubbles("bot").last).to_have_text(expected, use_inner_text=True)
    await expect(widget.q(".m.bot").last.locator(".fb")).to_contain_text("Did this help?")
    await widget.q(".m.bot").last.get_by_role("button", name="Yes").click()
    await expect(widget.q(".m.bot").last.locator(".fb")).to_have_text("Thanks for your feedback!")
