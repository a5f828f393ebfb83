"""The opening moves that most browser tests share, so each test reads from where it differs.

An agent signed in to the console, a visitor with the widget open on the demo shop, and a
chat handed from the one to the other. Each person gets a tab of their own (own cookies and
storage) from the ``tabs`` fixture, which fails the test on any page error or dialog.
"""

from __future__ import annotations

from typing import Any

from tests.browser.pages import Console, TabFactory, Widget
from tests.support.server import LiveServer


async def signed_in(
    server: LiveServer,
    tabs: TabFactory,
    email: str,
    *,
    status: str | None = "online",
    init_script: str | None = None,
) -> Console:
    """The existing agent ``email`` in the console, in a tab named after them, signed in and
    with the status the server confirmed (``status=None`` leaves the one they start with).

    ``init_script`` runs in the tab before any page script, e.g. to fake a background tab.
    """
    tab = await tabs(name=email.split("@")[0])
    if init_script is not None:
        await tab.context.add_init_script(init_script)
    console = Console(tab.page, server.base_url)
    await console.login(email)
    if status is not None:
        await console.set_status(status)
    return console


async def online_agent(
    server: LiveServer, tabs: TabFactory, email: str, *, name: str, **fields: Any
) -> Console:
    """A new agent (``fields`` as ``LiveServer.create_agent`` takes them) online in the console."""
    await server.create_agent(email=email, name=name, **fields)
    return await signed_in(server, tabs, email)


async def demo_visitor(
    server: LiveServer,
    tabs: TabFactory,
    *,
    locale: str = "en-US",
    name: str = "visitor",
    init_script: str | None = None,
) -> Widget:
    """A visitor (browser language ``locale``) on the demo shop with the chat panel open.

    ``init_script`` runs in the tab before any page script, e.g. ``BLOCKABLE_SOCKETS``.
    """
    tab = await tabs(name=name, locale=locale)
    if init_script is not None:
        await tab.context.add_init_script(init_script)
    await tab.page.goto(f"{server.base_url}/demo")
    widget = Widget(tab.page)
    await widget.open()
    return widget


async def hand_off(visitor: Widget, console: Console, text: str) -> None:
    """The visitor writes ``text`` and asks for a person; the agent accepts the offer."""
    await visitor.say(text)
    await visitor.ask_for_person()
    await console.accept_offer()
