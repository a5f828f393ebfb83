"""FaqService: owns the current BotEngine and reloads it when FAQ files change.

A reload builds a complete new engine off the event loop (``asyncio.to_thread``; building the
index of a large FAQ takes tens to hundreds of milliseconds) and then replaces the reference in
one assignment, so a question is always answered by one whole engine, old or new.

With the semantic extra, embedding every phrasing takes seconds (minutes for a 1,000-entry
FAQ on two cores), so the server starts on the lexical engine at once and ``run`` builds the
full one in the background, swapping it in like a reload; ``status().semantic`` says
``building`` meanwhile. An invalid
change keeps the last good engine serving; its problems are logged and shown by ``status()``
(``/api/v1/admin/faq/status``) until a later reload succeeds. See docs/bot.md ("Hot reload").
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import watchfiles

from chatdesk.bot.engine import BotEngine, BotReply, BotSettings
from chatdesk.bot.faq import FAQ_SUFFIXES, FaqProblem, FaqValidationError, faq_files, load_faq
from chatdesk.bot.semantic import semantic_available

logger = logging.getLogger(__name__)

# Editors save in several steps (temp file, rename); wait this long for the burst to settle.
DEBOUNCE_MS = 300
# The watcher's backstop: this often the files' sizes and modification times are compared with
# those of the last load, so a change the watcher never reported (made between the first load
# and the watcher's start, or on a file system that sends no events, as some network and
# container mounts do) is still picked up.
RESCAN_MS = 5_000

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(directory: Path) -> Fingerprint:
    """Path, size and modification time of every FAQ file, to tell whether any changed."""
    stats = []
    for path in faq_files(directory):
        with contextlib.suppress(OSError):  # deleted meanwhile: absent, as it should be
            stat = path.stat()
            stats.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(stats)


@dataclass(frozen=True, slots=True)
class FaqStatus:
    """What the bot currently serves, and why the last reload failed (if it did)."""

    directory: str
    entries: int
    languages: tuple[str, ...]
    loaded_at: datetime | None
    ok: bool
    problems: list[FaqProblem] = field(default_factory=list)
    # The embedding model serving ("off" without it, "building" until its index is ready).
    semantic: str = "off"


def _is_faq_file(_change: watchfiles.Change, path: str) -> bool:
    return path.lower().endswith(FAQ_SUFFIXES)


class FaqService:
    """The current engine for one FAQ directory, hot-reloaded on change."""

    def __init__(self, directory: Path, settings: BotSettings) -> None:
        self._directory = directory
        self._settings = settings
        self._engine: BotEngine | None = None
        self._loaded_at: datetime | None = None
        self._problems: list[FaqProblem] = []
        self._lock = asyncio.Lock()
        self._reloaded = asyncio.Condition()
        self._semantic_pending = False
        self._settled = asyncio.Event()
        self._stop_builds = threading.Event()
        self._loaded_files: Fingerprint = ()

    def _build(self, settings: BotSettings | None = None) -> BotEngine:
        # Taken before reading: a file changed while it is read differs at the next rescan.
        self._loaded_files = fingerprint(self._directory)
        faq = load_faq(self._directory, languages=self._settings.languages)
        return BotEngine.build(faq, settings or self._settings, stop=self._stop_builds)

    def load_initial(self) -> None:
        """First load, synchronous: raises FaqValidationError so the server refuses to start.

        Builds the lexical engine only; ``run`` adds the semantic evidence in the background.
        """
        started = time.perf_counter()
        self._semantic_pending = self._settings.semantic == "on" or (
            self._settings.semantic == "auto" and semantic_available()
        )
        self._engine = engine = self._build(replace(self._settings, semantic="off"))
        self._loaded_at = datetime.now(UTC)
        self._problems = []
        if not self._semantic_pending:
            self._settled.set()
        logger.info(
            "FAQ loaded: %d entries from %s in %.1f s%s",
            len(engine.faq.entries),
            self._directory,
            time.perf_counter() - started,
            "; building the semantic index in the background" if self._semantic_pending else "",
        )

    async def wait_until_settled(self) -> FaqStatus:
        """Wait until no initial build is pending: the engine has the semantic evidence it is
        configured for, or the attempt to build it ended (its failure is in ``status``)."""
        await self._settled.wait()
        return self.status()

    @property
    def engine(self) -> BotEngine:
        """The engine serving now."""
        if self._engine is None:
            raise RuntimeError("FaqService.load_initial() has not been called")
        return self._engine

    async def ask(
        self,
        text: str,
        *,
        lang_hint: str | None = None,
        conversation_lang: str | None = None,
        failures_in_row: int = 0,
    ) -> BotReply:
        """``BotEngine.ask`` on the engine serving now, off the event loop when it embeds.

        A lexical question costs about a millisecond of CPU, less than a thread hand-off is
        worth; embedding the question (the semantic extra) costs 20-30 ms, which would stall
        every socket of the process, so that runs in a worker thread (the model releases the
        GIL).
        """
        engine = self.engine
        ask = functools.partial(
            engine.ask,
            text,
            lang_hint=lang_hint,
            conversation_lang=conversation_lang,
            failures_in_row=failures_in_row,
        )
        return await asyncio.to_thread(ask) if engine.semantic else ask()

    def status(self) -> FaqStatus:
        engine = self._engine
        return FaqStatus(
            directory=str(self._directory),
            entries=len(engine.faq.entries) if engine else 0,
            languages=engine.languages if engine else (),
            loaded_at=self._loaded_at,
            ok=not self._problems and engine is not None,
            problems=list(self._problems),
            semantic=(
                engine.semantic.model
                if engine and engine.semantic
                else "building"
                if self._semantic_pending
                else "off"
            ),
        )

    async def reload(self) -> FaqStatus:
        """Rebuild now; on success swap engines, on failure keep the old one and record why."""
        async with self._lock:
            try:
                engine = await asyncio.to_thread(self._build)
            except FaqValidationError as exc:
                self._problems = list(exc.problems)
                logger.warning(
                    "FAQ reload failed, still serving the last good FAQ:\n%s",
                    "\n".join(str(p) for p in exc.problems),
                )
            else:
                self._engine = engine
                self._loaded_at = datetime.now(UTC)
                self._problems = []
                self._semantic_pending = False
                logger.info(
                    "FAQ reloaded: %d entries from %s (semantic evidence: %s)",
                    len(engine.faq.entries),
                    self._directory,
                    engine.semantic.model if engine.semantic else "off",
                )
            finally:
                self._settled.set()
        async with self._reloaded:
            self._reloaded.notify_all()
        return self.status()

    async def wait_for_reload(self) -> FaqStatus:
        """Wait until the next reload attempt (successful or not) has finished."""
        async with self._reloaded:
            await self._reloaded.wait()
        return self.status()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Build the semantic index if pending, and watch the directory, until ``stop`` is
        set (or the task is cancelled)."""
        upgrade = (
            asyncio.create_task(self._reload_logged(), name="faq-semantic-build")
            if self._semantic_pending
            else None
        )
        try:
            async for changes in watchfiles.awatch(
                self._directory,
                watch_filter=_is_faq_file,
                stop_event=stop,
                debounce=DEBOUNCE_MS,
                recursive=True,
                rust_timeout=RESCAN_MS,
                yield_on_timeout=True,
            ):
                if changes or await self._changed_unseen():
                    await self._reload_logged()
        finally:
            # A build still embedding in its thread stops at its next chunk.
            self._stop_builds.set()
            if upgrade is not None:
                upgrade.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await upgrade

    async def _changed_unseen(self) -> bool:
        """A FAQ file differs from the last load although the watcher reported nothing."""
        now = await asyncio.to_thread(fingerprint, self._directory)
        if now == self._loaded_files:
            return False
        logger.info("FAQ files changed without a file-system event; reloading")
        return True

    async def _reload_logged(self) -> None:
        try:
            await self.reload()
        except asyncio.CancelledError:
            raise
        except Exception:
            # An unexpected error (disk gone, bug) must not kill the watcher: log and keep
            # serving the last good engine.
            logger.exception("unexpected error while reloading the FAQ")
