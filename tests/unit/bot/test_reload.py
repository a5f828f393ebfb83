"""FaqService: atomic swap on reload, last good FAQ kept on error, file changes picked up."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from chatdesk.bot.engine import BotSettings
from chatdesk.bot.faq import FaqValidationError
from chatdesk.bot.reload import FaqService, fingerprint

DATA = Path(__file__).parent / "data" / "faq" / "shop.yaml"
EXTRA = """\
entries:
  - id: gift-cards
    questions: {en: ["Do you sell gift cards?"]}
    answer: {en: "Yes, from 10 EUR."}
"""


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    shutil.copy(DATA, tmp_path / "shop.yaml")
    return tmp_path


def test_invalid_first_load_raises(tmp_path: Path, settings: BotSettings) -> None:
    (tmp_path / "a.yaml").write_text("entries: [{id: x}]\n", encoding="utf-8")
    service = FaqService(tmp_path, settings)
    with pytest.raises(FaqValidationError):
        service.load_initial()
    with pytest.raises(RuntimeError):
        _ = service.engine


async def test_reload_swaps_in_a_new_engine(faq_dir: Path, settings: BotSettings) -> None:
    service = FaqService(faq_dir, settings)
    service.load_initial()
    before = service.engine
    (faq_dir / "extra.yaml").write_text(EXTRA, encoding="utf-8")
    status = await service.reload()
    assert status.ok and status.entries == 7 and status.problems == []
    assert service.engine is not before
    assert service.engine.ask("do you sell gift cards").entry_id == "gift-cards"


async def test_invalid_change_keeps_last_good_faq_and_reports_problems(
    faq_dir: Path, settings: BotSettings
) -> None:
    service = FaqService(faq_dir, settings)
    service.load_initial()
    good = service.engine
    (faq_dir / "extra.yaml").write_text(EXTRA.replace("questions", "qestions"), encoding="utf-8")
    status = await service.reload()
    assert service.engine is good
    assert not status.ok and status.entries == 6
    assert [(Path(p.file).name, p.line) for p in status.problems] == [
        ("extra.yaml", 2),  # the entry now lacks its questions
        ("extra.yaml", 3),  # the misspelt key
    ]
    assert "unknown key 'qestions'" in status.problems[1].message
    (faq_dir / "extra.yaml").write_text(EXTRA, encoding="utf-8")
    assert (await service.reload()).ok


async def test_watcher_picks_up_a_changed_file(faq_dir: Path, settings: BotSettings) -> None:
    service = FaqService(faq_dir, settings)
    service.load_initial()
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    reloaded = asyncio.create_task(service.wait_for_reload())
    await asyncio.sleep(0)  # the waiter is registered before the change
    (faq_dir / "extra.yaml").write_text(EXTRA, encoding="utf-8")
    async with asyncio.timeout(30):  # a hang guard, not a timed assertion
        status = await reloaded
    assert status.ok and status.entries == 7
    stop.set()
    await task
    assert service.engine.ask("gift cards").entry_id == "gift-cards"


async def test_a_change_made_before_the_watcher_started_is_picked_up(
    faq_dir: Path, settings: BotSettings
) -> None:
    """The rescan backstop: no file-system event will ever report this change."""
    service = FaqService(faq_dir, settings)
    service.load_initial()
    (faq_dir / "extra.yaml").write_text(EXTRA, encoding="utf-8")
    stop = asyncio.Event()
    reloaded = asyncio.create_task(service.wait_for_reload())
    await asyncio.sleep(0)  # the waiter is registered before the watcher starts
    task = asyncio.create_task(service.run(stop))
    async with asyncio.timeout(30):  # a hang guard, not a timed assertion
        status = await reloaded
    stop.set()
    await task
    assert status.ok and status.entries == 7


def test_fingerprint_tells_changed_added_and_removed_faq_files(faq_dir: Path) -> None:
    before = fingerprint(faq_dir)
    (faq_dir / "notes.txt").write_text("not an FAQ file", encoding="utf-8")
    (faq_dir / ".hidden.yaml").write_text("skipped like the loader skips it", encoding="utf-8")
    assert fingerprint(faq_dir) == before
    (faq_dir / "extra.yaml").write_text(EXTRA, encoding="utf-8")
    added = fingerprint(faq_dir)
    assert added != before
    (faq_dir / "extra.yaml").write_text(EXTRA + "\n", encoding="utf-8")
    assert fingerprint(faq_dir) not in (before, added)
    (faq_dir / "extra.yaml").unlink()
    assert fingerprint(faq_dir) == before
