"""Screenshots of the widget and the console for the README (``make screenshots``).

Starts ``chatdesk serve`` on a free local port with a throwaway SQLite database and the demo
agents, plays one conversation on the Velora demo page in headless Chromium (visitor and
agent in separate browser contexts), and saves PNGs into ``docs/screenshots/``:

    widget-open.png  widget-answer.png  widget-suggestions.png  widget-queued.png
    widget-agent.png  widget-phone.png  console.png  console-supervisor.png

Not part of the test suite: it checks nothing, it only takes pictures.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect, sync_playwright

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("CHATDESK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 30  # a healthy server answers /healthz in about a second
WIDGET = "chatdesk-widget"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def demo_server() -> Iterator[tuple[str, dict[str, str]]]:
    """A seeded ``chatdesk serve`` subprocess; yields its URL and the demo logins."""
    with tempfile.TemporaryDirectory(prefix="chatdesk-shots-") as tmp:
        port = free_port()
        env = {
            **os.environ,
            "CHATDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/chatdesk.db",
            "CHATDESK_FAQ_DIR": str(REPO / "faq"),
            "CHATDESK_HOST": "127.0.0.1",
            "CHATDESK_PORT": str(port),
        }
        seeded = subprocess.run(
            [sys.executable, "-m", "chatdesk", "demo", "seed"],
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
            check=True,
        )
        logins = dict(re.findall(r"(\S+@\S+)\s+password:\s+(\S+)", seeded.stdout))
        log = Path(tmp) / "server.log"
        with log.open("wb") as sink:
            server = subprocess.Popen(
                [sys.executable, "-m", "chatdesk", "serve"],
                env=env,
                cwd=tmp,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"server exited:\n{log.read_text()}")
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"server did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield base, logins
        finally:
            server.terminate()
            server.wait(timeout=15)


def login(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/console/")
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#conn")).to_have_text("Connected")


def say(page: Page, text: str) -> None:
    box = page.locator(f"{WIDGET} #cd-in")
    box.fill(text)
    box.press("Enter")
    expect(page.locator(f"{WIDGET} .m.visitor .meta")).to_have_count(0)


def widget_shot(page: Page, name: str) -> None:
    page.wait_for_timeout(300)  # let the smooth bits (scroll, focus ring) settle
    page.screenshot(path=str(OUT / name))
    print(OUT / name)


def take(browser: Browser, base: str, logins: dict[str, str]) -> None:
    agent_ctx = browser.new_context(viewport={"width": 1360, "height": 820})
    agent = agent_ctx.new_page()
    login(agent, base, "anna@example.com", logins["anna@example.com"])
    agent.select_option("#status-select", "online")
    expect(agent.locator("#status-select")).to_have_attribute("data-confirmed", "online")

    visitor_ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    visitor = visitor_ctx.new_page()
    visitor.goto(f"{base}/demo")
    visitor.click(f"{WIDGET} .launch")
    expect(visitor.locator(f"{WIDGET} .hd .sub")).to_have_text("We're online")
    widget_shot(visitor, "widget-open.png")

    say(visitor, "How much does shipping cost?")
    expect(visitor.locator(f"{WIDGET} .fb")).to_be_visible()
    widget_shot(visitor, "widget-answer.png")

    say(visitor, "bike")
    expect(visitor.locator(f"{WIDGET} .sg").last).to_be_visible()
    widget_shot(visitor, "widget-suggestions.png")

    visitor.click(f"{WIDGET} .pill")
    expect(visitor.locator(f"{WIDGET} .bar[role=status]").last).to_contain_text("queue")
    widget_shot(visitor, "widget-queued.png")

    agent.locator("#offers .offer button.primary").click()
    expect(agent.locator("#conv-state")).to_have_text("assigned")
    agent.fill("#composer-text", "Hi, I'm Anna from Velora. Happy to help with delivery.")
    agent.press("#composer-text", "Enter")
    say(visitor, "Great! Can the bike be delivered assembled?")
    expect(agent.locator("#messages .msg.visitor").last).to_contain_text("assembled")
    agent.wait_for_timeout(600)  # the server drops "typing on" repeated within 0.5 s
    agent.fill("#composer-text", "Yes, it arrives 95% assembled")
    agent.type("#composer-text", " — only the handlebar")
    expect(visitor.locator(f"{WIDGET} .bar[role=status]").first).to_contain_text("typing")
    widget_shot(visitor, "widget-agent.png")
    agent.press("#composer-text", "Enter")
    agent.click("#quick-toggle")
    agent.fill("#quick-filter", "assembled")
    agent.wait_for_timeout(300)
    agent.screenshot(path=str(OUT / "console.png"))
    print(OUT / "console.png")

    phone_ctx = browser.new_context(
        viewport={"width": 390, "height": 780}, locale="cs-CZ", is_mobile=True, has_touch=True
    )
    phone = phone_ctx.new_page()
    phone.goto(f"{base}/demo")
    phone.locator(f"{WIDGET} .launch").tap()
    say(phone, "kolik stoji doprava")
    expect(phone.locator(f"{WIDGET} .fb")).to_be_visible()
    widget_shot(phone, "widget-phone.png")

    super_ctx = browser.new_context(viewport={"width": 1360, "height": 820})
    supervisor = super_ctx.new_page()
    login(supervisor, base, "eva@example.com", logins["eva@example.com"])
    supervisor.click("#tab-supervisor")
    expect(supervisor.locator("#sv-agents")).to_contain_text("Anna")
    supervisor.wait_for_timeout(300)
    supervisor.screenshot(path=str(OUT / "console-supervisor.png"))
    print(OUT / "console-supervisor.png")


def main() -> int:
    if not CHROMIUM.exists():
        print(f"error: Chromium not found at {CHROMIUM}", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with demo_server() as (base, logins), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            take(browser, base, logins)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
