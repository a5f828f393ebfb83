"""The agent console beyond the main flow: sign-in errors, attention in a background tab,
quick replies, several conversations, handing back to the bot, and the supervisor's
watch and take-over."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.pages import TabFactory, faq_answer, visible_text
from tests.browser.steps import demo_visitor, hand_off, online_agent, signed_in
from tests.conftest import DEMO_FAQ
from tests.support.server import LiveServer

# Makes the page believe it is a background tab and records notifications, since a headless
# browser has neither a tab strip nor a desktop to show them on.
BACKGROUND_TAB = """
(() => {
  window.__hidden = false;
  Object.defineProperty(document, 'hidden', { get: () => window.__hidden });
  window.__notifications = [];
  window.Notification = class {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, options) { window.__notifications.push([title, options.body]); }
    close() {}
  };
})();
"""


async def test_wrong_password_is_refused_with_a_clear_message(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    await live_server.create_agent(email="jana@velora.example", name="Jana Nováková")
    page = (await tabs(name="jana")).page
    await page.goto(f"{live_server.base_url}/console/")
    await page.fill("#login-email", "jana@velora.example")
    await page.fill("#login-password", "not the password")
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#login-error")).to_have_text("Wrong email or password.")
    await expect(page.locator("#app")).to_be_hidden()


async def test_offer_in_a_background_tab_flashes_the_title_and_notifies(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    await live_server.create_agent(email="jana@velora.example", name="Jana Nováková")
    jana = await signed_in(live_server, tabs, "jana@velora.example", init_script=BACKGROUND_TAB)
    await jana.page.evaluate("() => { window.__hidden = true; }")

    widget = await demo_visitor(live_server, tabs, locale="pl-PL")
    await widget.say("Dzien dobry, mam pytanie o rower")
    await widget.ask_for_person()
    await expect(jana.offers).to_have_count(1)
    await expect(jana.page).to_have_title("★ New chat")
    notifications = await jana.page.evaluate("() => window.__notifications")
    assert notifications[0][0] == "New chat (PL)"
    # Back in the foreground the title is restored.
    await jana.page.evaluate(
        "() => { window.__hidden = false; document.dispatchEvent(new Event('visibilitychange')); }"
    )
    await expect(jana.page).to_have_title("chatdesk console")


async def test_quick_replies_offer_faq_answers_in_the_chat_language_and_canned_replies(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    jana = await online_agent(live_server, tabs, "jana@velora.example", name="Jana Nováková")
    widget = await demo_visitor(live_server, tabs, locale="cs-CZ")
    await hand_off(widget, jana, "Dobry den, potrebuji poradit")

    await jana.page.click("#quick-toggle")
    await expect(jana.page.locator("#quick-list")).to_contain_text("Greeting")
    await jana.page.fill("#quick-filter", "Greeting")
    await jana.page.locator("#quick-list button").first.click()
    await expect(jana.page.locator("#composer-text")).to_have_value(
        "Dobrý den, děkuji za trpělivost. Jak vám mohu pomoci?"
    )
    await jana.page.fill("#composer-text", "")
    await jana.page.fill("#quick-filter", "Kolik stojí doprava")
    await jana.page.locator("#quick-list button").first.click()
    # FAQ Markdown is flattened: the visitor sees agent text as plain text.
    expected = visible_text(faq_answer(DEMO_FAQ, "shipping-cost", "cs"))
    await expect(jana.page.locator("#composer-text")).to_have_value(expected)
    await jana.page.press("#composer-text", "Enter")
    await expect(widget.bubbles("agent").last).to_have_text(expected)


async def test_agent_with_two_chats_sees_unread_counts_and_switches_between_them(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    jana = await online_agent(live_server, tabs, "jana@velora.example", name="Jana Nováková")
    first = await demo_visitor(live_server, tabs, name="first")
    await hand_off(first, jana, "First visitor here")
    second = await demo_visitor(live_server, tabs, name="second")
    await second.say("Second visitor here")
    await second.ask_for_person()
    await expect(jana.offers).to_have_count(1)
    await jana.offers.first.get_by_role("button", name="Accept").click()
    items = jana.page.locator("#mine .conv-item")
    await expect(items).to_have_count(2)
    first_item = items.filter(has_text="First visitor here")
    await first_item.click()
    await expect(jana.messages("visitor").first).to_have_text("First visitor here")

    await second.say("Are you there?")
    await second.say("Hello?")
    second_item = items.filter(has_text="Second visitor here")
    await expect(second_item.locator(".unread")).to_have_text("2")
    await expect(second_item).to_have_attribute("aria-label", "Second visitor here, EN, 2 unread")
    await second_item.click()
    await expect(jana.messages("visitor").last).to_have_text("Hello?")
    await expect(second_item.locator(".unread")).to_have_count(0)


async def test_agent_hands_the_chat_back_to_the_bot_which_answers_again(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    jana = await online_agent(live_server, tabs, "jana@velora.example", name="Jana Nováková")
    widget = await demo_visitor(live_server, tabs)
    await hand_off(widget, jana, "Hi, a quick question")
    await jana.say("The bot knows this one, I'll hand you back.")
    await jana.page.click("#act-handback")
    await expect(jana.page.locator("#conv-state")).to_have_text("handed back")
    bot_answers = await widget.bubbles("bot").count()
    await widget.say("How much does shipping cost?")
    await expect(widget.bubbles("bot")).to_have_count(bot_answers + 1)
    await expect(widget.bubbles("bot").last).to_contain_text("4.90 EUR")


async def test_supervisor_watches_a_chat_live_and_then_takes_it_over(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    jana = await online_agent(live_server, tabs, "jana@velora.example", name="Jana Nováková")
    await live_server.create_agent(
        email="eva@velora.example", name="Eva Dvořáková", role="supervisor"
    )
    eva = await signed_in(live_server, tabs, "eva@velora.example", status=None)
    widget = await demo_visitor(live_server, tabs)
    await hand_off(widget, jana, "My order never arrived!")

    await eva.page.click("#tab-supervisor")
    row = eva.page.locator("#sv-convs tr").filter(has_text="Jana Nováková")
    await row.get_by_role("button", name="Watch").click()
    await expect(eva.page.locator("#conv-state")).to_have_text("watching")
    await expect(eva.messages("visitor").first).to_have_text("My order never arrived!")
    await jana.say("Let me check that for you.")
    await expect(eva.messages("agent").last).to_have_text("Let me check that for you.")

    await eva.page.click("#act-takeover")
    await expect(eva.page.locator("#conv-state")).to_have_text("assigned")
    await eva.say("Hello, I'm Eva, the team lead. I'll sort this out.")
    await expect(widget.bubbles("agent").last).to_have_text(
        "Hello, I'm Eva, the team lead. I'll sort this out."
    )
    await expect(widget.header_status).to_have_text("Chatting with Eva Dvořáková")


async def test_with_auto_accept_chats_arrive_without_an_offer(
    live_server: LiveServer, tabs: TabFactory
) -> None:
    await live_server.create_agent(email="jana@velora.example", name="Jana Nováková")
    jana = await signed_in(live_server, tabs, "jana@velora.example", status=None)
    await jana.page.check("#auto-accept")
    await jana.set_status("online")
    widget = await demo_visitor(live_server, tabs)
    await widget.say("Can I book a test ride?")
    await widget.ask_for_person()
    await expect(jana.page.locator("#conv-state")).to_have_text("assigned")
    await expect(jana.offers).to_have_count(0)
    await expect(widget.header_status).to_have_text("Chatting with Jana Nováková")
