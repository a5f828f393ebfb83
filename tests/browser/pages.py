"""What the browser tests do on a page, named as a person would say it.

``Tab`` is one browser context (own cookies and storage, like a separate person) that records
uncaught errors and dialogs; ``Widget`` and ``Console`` drive the two UIs through the same
controls a person uses (Playwright's CSS locators reach into the widget's open shadow root).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from playwright.async_api import Browser, BrowserContext, Dialog, Locator, Page, expect

PASSWORD = "correct horse battery"
WIDGET = "chatdesk-widget"

BLOCKABLE_SOCKETS = """
(() => {
  // Lets a test cut the widget's connection and refuse new ones, like a dead network would.
  const Native = window.WebSocket;
  window.__sockets = [];
  window.__blocked = false;
  function Blockable(url, protocols) {
    const ws = new Native(window.__blocked ? 'ws://127.0.0.1:9/blocked' : url, protocols);
    window.__sockets.push(ws);
    return ws;
  }
  Blockable.prototype = Native.prototype;
  Object.assign(Blockable, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.WebSocket = Blockable;
})();
"""


@dataclass
class Tab:
    name: str
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @classmethod
    async def open(cls, browser: Browser, *, name: str = "tab", **options: Any) -> Tab:
        context = await browser.new_context(**options)
        page = await context.new_page()
        tab = cls(name=name, context=context, page=page)
        page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
        page.on("dialog", tab._on_dialog)
        return tab

    async def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type} dialog: {dialog.message}")
        await dialog.dismiss()


TabFactory = Callable[..., Awaitable[Tab]]


class Widget:
    """The chat widget embedded in ``page``."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def q(self, css: str) -> Locator:
        return self.page.locator(f"{WIDGET} {css}")

    @property
    def launcher(self) -> Locator:
        return self.q(".launch")

    @property
    def panel(self) -> Locator:
        return self.q(".panel")

    @property
    def input(self) -> Locator:
        return self.q("#cd-in")

    @property
    def header_status(self) -> Locator:
        return self.q(".hd .sub")

    @property
    def person_button(self) -> Locator:
        """The "Talk to a person" button: it asks for the hand-off."""
        return self.q(".pill")

    def bubbles(self, author: str) -> Locator:
        """Message bodies by author: visitor, bot, agent or system."""
        return self.q(f".m.{author} .b")

    async def open(self) -> None:
        await self.launcher.click()
        await expect(self.panel).to_be_visible()

    async def say(self, text: str) -> None:
        """Type and send; returns once the server acknowledged (the "Sending…" mark is gone)."""
        await self.input.fill(text)
        await self.input.press("Enter")
        await expect(self.q(".m.visitor .b").filter(has_text=text).last).to_be_visible()
        await expect(self.q(".m.visitor .meta")).to_have_count(0)

    async def ask_for_person(self) -> None:
        await self.person_button.click()


class Console:
    """The agent console in ``page``."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    async def login(self, email: str, password: str = PASSWORD) -> None:
        await self.page.goto(f"{self.base_url}/console/")
        await self.page.fill("#login-email", email)
        await self.page.fill("#login-password", password)
        await self.page.click("#login-form button[type=submit]")
        await expect(self.page.locator("#conn")).to_have_text("Connected")

    async def set_status(self, status: str) -> None:
        """Choose a status and wait for the server to confirm it (its ``status`` frame)."""
        await self.page.select_option("#status-select", status)
        await expect(self.page.locator("#status-select")).to_have_attribute(
            "data-confirmed", status
        )

    @property
    def offers(self) -> Locator:
        return self.page.locator("#offers .offer")

    def messages(self, author: str) -> Locator:
        return self.page.locator(f"#messages .msg.{author} .body")

    async def accept_offer(self) -> None:
        await self.offers.first.get_by_role("button", name="Accept").click()
        await expect(self.page.locator("#conv-state")).to_have_text("assigned")

    async def say(self, text: str) -> None:
        await self.page.fill("#composer-text", text)
        await self.page.press("#composer-text", "Enter")
        await expect(self.messages("agent").filter(has_text=text)).to_have_count(1)
        await expect(self.page.locator("#messages .msg.pending")).to_have_count(0)


class HostSite:
    """Another website on its own port (so another origin) that embeds the widget.

    Pages are registered with ``show(html)``; the widget on them loads from the chatdesk
    server, exactly as on a customer's site, so the server must allow this origin.
    """

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body or b"not found")

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test output is for the tests."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HostSite:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def show(self, html: str) -> str:
        """Publish ``html`` as a new page of this site; returns its URL."""
        path = f"/page-{len(self.pages)}.html"
        self.pages[path] = html.encode()
        return self.origin + path


def embed(server_url: str, **data: str) -> str:
    """The embed tag for ``server_url`` with ``data-*`` options (``embed(url, lang="cs")``)."""
    attrs = "".join(f' data-{k}="{v}"' for k, v in data.items())
    return f'<script src="{server_url}/widget.js" data-chatdesk{attrs} async></script>'


def visible_text(markdown: str) -> str:
    """What the FAQ Markdown subset shows as text: markers dropped, links reduced to their text."""
    text = re.sub(r"\[([^\]]+)\]\((https?://[^\s)]+)\)", r"\1", markdown)
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"\*([^*\s][^*]*?)\*", r"\1", text)
    text = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", text, flags=re.M)
    return " ".join(text.split())


def faq_answer(faq_dir: Path, entry_id: str, lang: str) -> str:
    """The stored answer of one FAQ entry, read straight from the YAML files."""
    for path in sorted(faq_dir.rglob("*.y*ml")):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("entries", []):
            if entry["id"] == entry_id:
                return str(entry["answer"][lang])
    raise LookupError(f"no FAQ entry {entry_id!r} under {faq_dir}")


def faq_entry_with_question(faq_dir: Path, question: str, lang: str) -> str:
    """The id of the FAQ entry that has ``question`` among its phrasings in ``lang``."""
    for path in sorted(faq_dir.rglob("*.y*ml")):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("entries", []):
            if question in entry["questions"].get(lang, []):
                return str(entry["id"])
    raise LookupError(f"no FAQ entry asks {question!r} in {lang}")
