"""A visitor, two agents and a supervisor, each in their own browser, through one conversation.

From the bot's answer to a person: offer, accept, messages both ways, typing, a reload in the
middle, a transfer to a second agent, the supervisor's queue and load tables following along,
and the XSS payload staying text on both sides.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.pages import BLOCKABLE_SOCKETS, TabFactory, faq_answer, visible_text
from tests.browser.steps import demo_visitor, hand_off, online_agent, signed_in
from tests.conftest import DEMO_FAQ
from tests.support.server import LiveServer

XSS = "<img src=x onerror=alert(1)>"


def agent_cell(page: Page, name: str, column: int) -> Locator:
    """One cell of the supervisor's agents table: 2 is the status, 4 the load."""
    return page.locator("#sv-agents tr").filter(has_text=name).locator("td").nth(column)


@pytest.mark.timeout(240)
async def test_visitor_reaches_an_agent_who_transfers_while_the_supervisor_watches(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    await live_server.create_agent(
        email="jana@velora.example", name="Jana Nováková", languages=["cs", "en"]
    )
    petr_id = await live_server.create_agent(
        email="petr@velora.example", name="Petr Svoboda", languages=["cs", "en"]
    )
    await live_server.create_agent(
        email="eva@velora.example", name="Eva Dvořáková", role="supervisor", languages=["cs"]
    )

    supervisor = await signed_in(live_server, tabs, "eva@velora.example", status=None)
    await supervisor.page.click("#tab-supervisor")
    await expect(supervisor.page.locator("#sv-queue")).to_contain_text("Nobody is waiting")

    jana = await signed_in(live_server, tabs, "jana@velora.example")
    await expect(supervisor.page.locator("#sv-agents")).to_contain_text("Jana Nováková")
    await expect(agent_cell(supervisor.page, "Jana Nováková", 2)).to_have_text("online")

    # The visitor asks the bot first, in Czech typed without diacritics.
    visitor = await demo_visitor(live_server, tabs, locale="cs-CZ")
    await expect(visitor.header_status).to_have_text("Jsme online")
    await visitor.say("kolik stoji doprava")
    answer = visible_text(faq_answer(DEMO_FAQ, "shipping-cost", "cs"))
    await expect(visitor.bubbles("bot").last).to_have_text(answer, use_inner_text=True)

    # ... then asks for a person; Jana is offered the chat, with sound and a title flash.
    await visitor.ask_for_person()
    await expect(jana.offers).to_have_count(1)
    await expect(jana.offers.first).to_contain_text("CS")
    await expect(supervisor.page.locator("#sv-queue")).to_contain_text("offered")
    await jana.accept_offer()
    await expect(visitor.header_status).to_have_text("Konzultant: Jana Nováková")
    await expect(visitor.person_button).to_be_hidden()

    # Jana sees the bot's part with its FAQ score, and the visitor's context.
    await expect(jana.messages("bot").last).to_have_text(answer, use_inner_text=True)
    await expect(jana.page.locator("#messages .faq-meta").last).to_contain_text("shipping-cost")
    await expect(jana.page.locator("#context-list")).to_contain_text("CS")
    await expect(jana.page.locator("#context-list")).to_contain_text("/demo")
    await expect(agent_cell(supervisor.page, "Jana Nováková", 4)).to_have_text("1 / 3")

    # Typing shows on the visitor's side; messages go both ways.
    await jana.page.fill("#composer-text", "Dobrý den")
    await jana.page.type("#composer-text", ", ")
    await expect(visitor.q(".bar[role=status]").first).to_contain_text("Jana Nováková píše")
    await jana.page.fill("#composer-text", "")
    await jana.say("Dobrý den, s čím vám mohu pomoci?")
    await expect(visitor.bubbles("agent").last).to_have_text("Dobrý den, s čím vám mohu pomoci?")
    await visitor.say("Chtel bych vratit kolo")
    await expect(jana.messages("visitor").last).to_have_text("Chtel bych vratit kolo")

    # The payload stays text in both UIs.
    await visitor.say(XSS)
    await expect(jana.messages("visitor").last).to_have_text(XSS)
    await jana.say(XSS)
    await expect(visitor.bubbles("agent").last).to_have_text(XSS)
    assert await visitor.q("img").count() == 0
    assert await jana.page.locator("#messages img").count() == 0

    # A private note reaches no visitor.
    await jana.page.check("#composer input[value=note]")
    await jana.page.fill("#composer-text", "VIP customer, be nice")
    await jana.page.press("#composer-text", "Enter")
    await expect(jana.messages("note")).to_have_text(["VIP customer, be nice"])

    # A reload mid-chat restores the whole history and the agent's name.
    await visitor.page.reload()
    await expect(visitor.panel).to_be_visible()
    await expect(visitor.header_status).to_have_text("Konzultant: Jana Nováková")
    await expect(visitor.bubbles("bot").first).to_have_text(answer, use_inner_text=True)
    await expect(visitor.bubbles("agent")).to_have_text(["Dobrý den, s čím vám mohu pomoci?", XSS])
    await expect(visitor.bubbles("visitor")).to_have_text(
        ["kolik stoji doprava", "Chtel bych vratit kolo", XSS]
    )
    assert "VIP customer" not in await visitor.q(".log").inner_text()
    assert await visitor.q("img").count() == 0

    # Jana transfers to Petr, who comes online; the supervisor sees the load move.
    petr = await signed_in(live_server, tabs, "petr@velora.example")
    await jana.page.click("#act-transfer")
    await expect(jana.page.locator("#transfer-agent")).to_contain_text("Petr Svoboda")
    await jana.page.select_option("#transfer-agent", value=petr_id)
    await jana.page.fill("#transfer-note", "Wants to return a bike")
    await jana.page.click("#transfer-form button[type=submit]")
    offered_or_assigned = petr.page.locator("#offers .offer, #mine .conv-item")
    await expect(offered_or_assigned.first).to_be_visible()
    if await petr.offers.count():
        await petr.accept_offer()
    await expect(petr.page.locator("#conv-state")).to_have_text("assigned")
    await expect(petr.messages("note")).to_contain_text(["Wants to return a bike"])
    await expect(jana.page.locator("#mine .conv-item.current")).to_contain_text("transferred")
    await expect(
        supervisor.page.locator("#sv-agents tr").filter(has_text="Petr Svoboda")
    ).to_contain_text("1 / 3")
    await expect(
        supervisor.page.locator("#sv-agents tr").filter(has_text="Jana Nováková")
    ).to_contain_text("0 / 3")

    await petr.say("Dobrý den, tady Petr.")
    await expect(visitor.bubbles("agent").last).to_have_text("Dobrý den, tady Petr.")
    await expect(visitor.q(".m.agent .n").last).to_have_text("Petr Svoboda")
    await expect(visitor.header_status).to_have_text("Konzultant: Petr Svoboda")


async def test_visitor_waiting_in_the_queue_shows_in_the_supervisor_view(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    jana = await online_agent(
        live_server, tabs, "jana@velora.example", name="Jana Nováková", max_chats=1
    )
    await live_server.create_agent(
        email="eva@velora.example", name="Eva Dvořáková", role="supervisor"
    )
    supervisor = await signed_in(live_server, tabs, "eva@velora.example", status=None)
    await supervisor.page.click("#tab-supervisor")

    first = await demo_visitor(live_server, tabs, name="first visitor")
    await hand_off(first, jana, "I need help with my order")
    await expect(first.header_status).to_have_text("Chatting with Jana Nováková")

    # Jana is full (max 1 chat): the second visitor waits, and everyone can see it.
    second = await demo_visitor(live_server, tabs, name="second visitor")
    await second.say("I need help with my order too")
    await second.ask_for_person()
    await expect(second.q(".bar[role=status]").last).to_contain_text(
        "You are number 1 in the queue"
    )
    await expect(supervisor.page.locator("#sv-queue tr")).to_have_count(1)
    await expect(supervisor.page.locator("#sv-queue")).to_contain_text("EN")
    await expect(jana.page.locator("#queue-info")).to_contain_text("Waiting: 1")
    await expect(supervisor.page.locator("#sv-agents tr").filter(has_text="Jana")).to_contain_text(
        "1 / 1"
    )

    # Jana closes the first chat: the waiting visitor is offered to her, the queue empties,
    # and the first visitor gets the rating form.
    await jana.page.click("#act-close")
    await expect(first.q(".more legend")).to_have_text("How was the chat?")
    await first.q(".stars label[for=cd-s5]").click()
    await first.q(".more button.go").click()
    await expect(first.q(".more")).to_contain_text("Thank you for your rating!")
    await expect(jana.offers).to_have_count(1)
    await jana.accept_offer()
    await expect(supervisor.page.locator("#sv-queue")).to_contain_text("Nobody is waiting")
    await expect(second.header_status).to_have_text("Chatting with Jana Nováková")


async def test_with_nobody_online_the_visitor_leaves_a_message_that_agents_find_pending(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    await live_server.create_agent(email="jana@velora.example", name="Jana Nováková")
    visitor = await demo_visitor(live_server, tabs, locale="sk-SK")
    await expect(visitor.header_status).to_have_text("Práve nie sme k dispozícii")
    await visitor.say("Potrebujem poradit s velkostou ramu")
    await visitor.ask_for_person()
    await expect(visitor.q(".more")).to_contain_text("Zanechajte nám správu")
    await visitor.q("#cd-email").fill("zakaznik@example.com")
    await visitor.q("#cd-text").fill("Mám 182 cm, aký rám?")
    await visitor.q(".more button.go").click()
    await expect(visitor.q(".more")).to_contain_text("Ďakujeme! Odpovieme vám e-mailom.")

    jana = await signed_in(live_server, tabs, "jana@velora.example", status=None)
    await expect(jana.page.locator("#pending .pending-item")).to_have_count(1)
    await expect(jana.page.locator("#pending")).to_contain_text("zakaznik@example.com")
    await jana.page.locator("#pending button").click()
    await expect(jana.page.locator("#conv-state")).to_have_text("assigned")


async def test_unread_badge_counts_replies_while_the_panel_is_closed(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    jana = await online_agent(live_server, tabs, "jana@velora.example", name="Jana Nováková")
    visitor = await demo_visitor(live_server, tabs)
    await hand_off(visitor, jana, "Hello, a question about e-bikes")
    await visitor.q(".hd .x").click()
    await expect(visitor.panel).to_be_hidden()
    await jana.say("Hi! Which model?")
    await jana.say("We have three in stock.")
    await expect(visitor.q(".badge")).to_have_text("2")
    await expect(visitor.launcher).to_have_attribute("aria-label", "Open chat, 2 unread")
    await visitor.launcher.click()
    await expect(visitor.q(".badge")).to_be_hidden()
    await expect(visitor.bubbles("agent").last).to_have_text("We have three in stock.")
    # The visitor's reply shows in Jana's list as unread while she looks at nothing else.
    await visitor.say("The Urbo E 500")
    await expect(jana.messages("visitor").last).to_have_text("The Urbo E 500")


async def test_visitor_ends_the_chat_rates_it_and_starts_a_new_one(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    jana = await online_agent(live_server, tabs, "jana@velora.example", name="Jana Nováková")
    visitor = await demo_visitor(live_server, tabs, locale="lv-LV")
    await hand_off(visitor, jana, "Sveiki, man ir jautājums")
    await expect(visitor.header_status).to_have_text("Konsultants: Jana Nováková")
    await visitor.q(".hd button").filter(has_text="Beigt sarunu").click()
    await expect(visitor.q(".more legend")).to_have_text("Kā vērtē sarunu?")
    await expect(visitor.input).to_be_hidden()
    await expect(jana.page.locator("#conv-state")).to_have_text("closed")
    await visitor.q(".stars label[for=cd-s4]").click()
    await visitor.q("#cd-comment").fill("Ātri un laipni")
    await visitor.q(".more button.go").click()
    await expect(visitor.q(".more")).to_contain_text("Paldies par vērtējumu!")

    # The rating form does not come back on reload; a new chat starts with the next message.
    await visitor.page.reload()
    await expect(visitor.q(".more")).to_contain_text("Paldies par vērtējumu!")
    await visitor.q(".more button").filter(has_text="Sākt jaunu sarunu").click()
    await expect(visitor.q(".m")).to_have_count(0)
    await visitor.say("Cik maksā piegāde?")
    await expect(visitor.bubbles("bot")).to_have_count(1)
    await expect(visitor.bubbles("visitor")).to_have_text(["Cik maksā piegāde?"])
    await expect(visitor.person_button).to_be_visible()


async def test_after_a_network_drop_both_sides_see_every_message_exactly_once(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    jana = await online_agent(live_server, tabs, "jana@velora.example", name="Jana Nováková")
    visitor = await demo_visitor(live_server, tabs, init_script=BLOCKABLE_SOCKETS)
    await hand_off(visitor, jana, "Hello, my e-bike battery is dead")
    await expect(visitor.header_status).to_have_text("Chatting with Jana Nováková")

    await visitor.page.evaluate(
        "() => { window.__blocked = true; window.__sockets.forEach(s => s.close()); }"
    )
    await expect(visitor.q(".bar[role=status]").last).to_contain_text("Reconnecting")
    await jana.say("Which model is it?")
    await jana.say("And how old is the battery?")
    await visitor.input.fill("It is an Urbo E 500")
    await visitor.input.press("Enter")
    await visitor.page.evaluate("() => { window.__blocked = false; }")

    await expect(visitor.q(".m.visitor .meta")).to_have_count(0, timeout=30_000)
    await expect(visitor.bubbles("agent")).to_have_text(
        ["Which model is it?", "And how old is the battery?"]
    )
    await expect(jana.messages("visitor")).to_have_text(
        ["Hello, my e-bike battery is dead", "It is an Urbo E 500"]
    )
