"""A throw-away ``redis-server`` of a test's own, to SIGKILL, freeze and restart.

The broker and scale-out restart tests (and ``bench/redis_restart.py``) need a Redis they
may kill without touching the machine's: this one listens on a free loopback port, keeps
nothing on disk (no RDB, no AOF) and lives in a temporary directory. Restarting it on the
same port gives an empty Redis, as after a crash of a server without persistence.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.server import free_port

START_WAIT_S = 30.0  # hang protection for the server's start, not a speed bound
READY_LINE = b"Ready to accept connections"


class PrivateRedis:
    """A throwaway ``redis-server`` on a fixed port that can be killed and restarted."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self._proc: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        """Start the server and return once it accepts connections (from its own log)."""
        self._proc = await asyncio.create_subprocess_exec(
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--logfile", "",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        ready = asyncio.Event()
        self._drain = asyncio.get_running_loop().create_task(self._read_log(self._proc, ready))
        async with asyncio.timeout(START_WAIT_S):
            await ready.wait()

    async def _read_log(self, proc: asyncio.subprocess.Process, ready: asyncio.Event) -> None:
        assert proc.stdout is not None
        log: list[bytes] = []
        async for line in proc.stdout:  # keep draining so the pipe never fills
            log.append(line)
            if READY_LINE in line:
                ready.set()
        if not ready.is_set():
            raise RuntimeError("redis-server exited early:\n" + b"".join(log).decode())

    def freeze(self, frozen: bool) -> None:
        """SIGSTOP / SIGCONT: the TCP connections stay open but nothing answers."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to clients, nothing saved."""
        if self._proc is not None and self._proc.returncode is None:
            self._proc.send_signal(signal.SIGKILL)  # also ends a SIGSTOPped server
            await self._proc.wait()
        if self._drain is not None:
            with contextlib.suppress(RuntimeError):
                await self._drain
        self._proc = self._drain = None


@contextlib.asynccontextmanager
async def private_redis_server(workdir: Path) -> AsyncIterator[PrivateRedis]:
    """A started ``PrivateRedis`` on a free port, killed on exit (whatever state it is in).

    Skips the test (CI turns that into a failure) where no ``redis-server`` is installed.
    """
    if shutil.which("redis-server") is None:
        pytest.skip("the redis-server binary is not installed")
    server = PrivateRedis(workdir, free_port())
    await server.start()
    try:
        yield server
    finally:
        await server.kill()
