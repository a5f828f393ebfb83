"""Browser tests: widget, console and demo page in real headless Chromium (Playwright).

Playwright's async API runs in the test's own event loop, next to the in-process server of
the ``live_server`` fixture, so the server keeps serving while a test awaits the browser.
The browser is Debian's Chromium (never one downloaded by Playwright); without it these
tests skip with the reason (CI turns that skip into a failure). axe-core comes from npm:
``npm ci`` at the repository root puts it in ``node_modules/``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser.pages import HostSite, Tab, TabFactory

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHATDESK_CHROMIUM", "/usr/bin/chromium"))
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this directory that drives a browser carries the ``browser`` marker."""
    for item in items:
        here = Path(__file__).parent
        if "browser" in getattr(item, "fixturenames", ()) and item.path.is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Browser tests exercise the pages, not the storage backends: SQLite only."""
    return sqlite_url


@pytest.fixture
def host_site() -> Iterator[HostSite]:
    with HostSite() as site:
        yield site


@pytest.fixture
def server_env(server_env: dict[str, Any], host_site: HostSite) -> dict[str, Any]:
    """The test host site may embed the widget, like a customer's site listed by the operator."""
    return {**server_env, "allowed_origins": [host_site.origin]}


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip("axe-core is missing: run `npm ci` at the repository root")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
async def tabs(browser: Browser) -> AsyncIterator[TabFactory]:
    """Opens pages, each in its own browser context (own cookies and storage).

    At teardown, any uncaught JavaScript error or dialog (``alert``) in any of them fails the
    test: the XSS payloads must stay inert everywhere, and our scripts must not throw.
    """
    opened: list[Tab] = []

    async def open_tab(**context_options: Any) -> Tab:
        tab = await Tab.open(browser, **context_options)
        opened.append(tab)
        return tab

    yield open_tab
    problems = [f"{tab.name}: {p}" for tab in opened for p in tab.errors + tab.dialogs]
    for tab in opened:
        await tab.context.close()
    assert not problems, "uncaught page errors or dialogs:\n" + "\n".join(problems)
