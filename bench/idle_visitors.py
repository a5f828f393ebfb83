"""How many idle visitor websockets one server process holds, and what holding them costs.

Starts ``chatdesk serve`` (one process, semantic bot and rate limits off, a short
``HEARTBEAT_S``) on a fresh database, opens ``--visitors`` visitor websockets from
``--clients`` client processes (each ``hello`` -> ``welcome``, docs/protocol.md), keeps them
idle for ``--heartbeats`` heartbeats, then closes everything. Loopback only, bounded: every
phase has a deadline (``--deadline-s``). Prints

- connections opened (and why others failed), time to open them, server CPU per visitor
- server RSS (``/proc/<pid>/status``) before and after, and per connection
- server CPU per heartbeat while idle (utime + stime from ``/proc/<pid>/stat``): the
  websocket pings (two per socket per heartbeat, ``ws_ping_interval`` = ``HEARTBEAT_S``/2),
  the liveness refresh and the routing passes (one per second); per heartbeat the pings
  hardly depend on ``HEARTBEAT_S``, so a 5 s run predicts the 20 s default
- with Redis, the commands Redis executed per heartbeat (``INFO commandstats`` deltas; a
  script call counts once as ``evalsha`` and its inner commands count again by name). On a
  shared Redis the deltas include other clients: ``--private-redis`` starts a throwaway
  ``redis-server`` so that only this server talks to it
- connections lost after their welcome (with their close codes) and how long the server
  stayed busy after the clients closed (each close costs liveness and database work)
- stalls: the longest ``/healthz`` answer (the server's event loop) and the longest
  event-loop lag of the client processes, per phase. A stall longer than the ping timeout
  (``HEARTBEAT_S``/2) closes sockets with 1011. ``--trace-gc`` also logs the server's
  full (generation 2) garbage collections: with ~3.5 million live objects at 19,000
  sockets each takes 2-4 s. ``--gc-freeze`` is a what-if (not what chatdesk does): the
  survivors of every full collection are frozen, so the next one walks only newer objects.
- warnings and errors of the server's log, by kind

Both this process and the server (which inherits it) raise the soft ``RLIMIT_NOFILE`` to
the hard limit: one process cannot hold more sockets than that (``ulimit -Hn``).

    .venv/bin/python bench/idle_visitors.py                       # SQLite, 19,000 visitors
    .venv/bin/python bench/idle_visitors.py --visitors 2000 --heartbeats 2
    .venv/bin/python bench/idle_visitors.py --private-redis \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/idle_visitors.py --redis-url redis://127.0.0.1:6379/0 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test --trace-gc

A PostgreSQL URL is an admin connection: a scratch database is created, upgraded and
dropped afterwards (scale-out needs PostgreSQL, so Redis needs ``--database-url``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from multiprocessing.connection import Connection as Pipe
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests package (scratch PostgreSQL databases)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_URL = "https://shop.example/idle"
STARTUP_WAIT_S = 60.0  # hang protection: the server is up in about a second
OPEN_TIMEOUT_S = 60.0  # one websocket handshake + welcome, while thousands queue up
CLOSE_WAIT_S = 60.0  # closing handshakes of one client process
SERVER_STOP_S = 30.0  # the server's graceful shutdown is 10 s (cli.GRACEFUL_SHUTDOWN_S)
VISITORS_PER_CLIENT = 10_000  # fds stay well under a 20,000 limit; pongs stay prompt
PROBE_EVERY_S = 0.25  # /healthz and client loop-lag sampling
STALL_S = 1.0  # a pause worth counting
QUIET_CPU = 0.15  # CPU seconds per second: above this the server is still working

# Runs ``chatdesk serve`` with gc.callbacks logging collections of generation 2 (full) and
# any collection >= 50 ms to $BENCH_GC_LOG: "<unix time> <generation> <seconds> <objects
# tracked after a full collection>". With $BENCH_GC_FREEZE set (``--gc-freeze``, a what-if,
# not what chatdesk does), the survivors of every full collection are frozen (gc.freeze), so
# the next one only walks objects created since.
GC_BOOTSTRAP = """
import gc, os, sys, time
log = open(os.environ["BENCH_GC_LOG"], "a", buffering=1)
freeze = bool(os.environ.get("BENCH_GC_FREEZE"))
started = [0.0]
def trace(phase, info):
    if phase == "start":
        started[0] = time.perf_counter()
        return
    took = time.perf_counter() - started[0]
    if info["generation"] == 2:
        if freeze:
            gc.freeze()
        tracked = len(gc.get_objects()) + gc.get_freeze_count()
        log.write(f"{time.time():.3f} 2 {took:.4f} {tracked}\\n")
    elif took >= 0.05:
        log.write(f"{time.time():.3f} {info['generation']} {took:.4f} 0\\n")
gc.callbacks.append(trace)
from chatdesk.cli import main
sys.argv = ["chatdesk", "serve"]
raise SystemExit(main(["serve"]))
"""


# -- /proc -------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def nofile_limits(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return f"soft {soft}, hard {hard}"
    return "unknown"


def raise_nofile_limit() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit (children inherit it); the new (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# -- client processes --------------------------------------------------------------------------
# They report plain dicts (classes would live in another process's __main__): after opening
# {"opened", "failures": {reason: count}, "lag_s"}, then, told "close", {"still_open" (the
# others were lost while idle), "close_codes": {code: count}, "lag_s"}. lag_s is the longest
# delay of the client's event loop in that phase: pongs wait for it too.


class LoopLag:
    """The longest overshoot of a short sleep: how long this event loop was unresponsive."""

    def __init__(self) -> None:
        self.worst_s = 0.0

    async def run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(PROBE_EVERY_S)
            self.worst_s = max(self.worst_s, time.perf_counter() - started - PROBE_EVERY_S)

    def take(self) -> float:
        worst, self.worst_s = self.worst_s, 0.0
        return worst


def error_name(exc: BaseException) -> str:
    text = str(exc).split("\n")[0][:80]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def open_visitor(url: str) -> Any:
    """One visitor: handshake, ``hello``, and the ``welcome`` that proves the server has it."""
    from websockets.asyncio.client import connect

    conn = await connect(
        url,
        compression=None,  # as the server: permessage-deflate triples memory per connection
        ping_interval=None,  # browsers do not ping; the server's pings are answered anyway
        open_timeout=OPEN_TIMEOUT_S,
        close_timeout=5,
        max_queue=4,
    )
    try:
        hello = {"type": "hello", "token": None, "lang": "en", "page_url": PAGE_URL}
        await conn.send(json.dumps(hello))
        async with asyncio.timeout(OPEN_TIMEOUT_S):
            while True:
                frame = json.loads(await conn.recv())
                if frame.get("type") == "welcome":
                    return conn
    except BaseException:
        await conn.close()
        raise


async def client_main(url: str, count: int, in_flight: int, pipe: Pipe) -> None:
    from websockets.protocol import State

    conns: list[Any] = []
    failures: Counter[str] = Counter()
    gate = asyncio.Semaphore(in_flight)
    lag = LoopLag()
    lag_task = asyncio.create_task(lag.run())

    async def one() -> None:
        async with gate:
            try:
                conns.append(await open_visitor(url))
            except Exception as exc:
                failures[error_name(exc)] += 1

    await asyncio.gather(*(one() for _ in range(count)))
    pipe.send({"opened": len(conns), "failures": dict(failures), "lag_s": lag.take()})
    await asyncio.to_thread(pipe.recv)  # "close"
    idle_lag_s = lag.take()
    lag_task.cancel()
    still_open = sum(1 for conn in conns if conn.state is State.OPEN)
    codes = Counter(str(conn.close_code) for conn in conns if conn.state is not State.OPEN)
    closing = asyncio.Semaphore(in_flight)

    async def close(conn: Any) -> None:
        async with closing:
            with contextlib.suppress(Exception):
                await conn.close()

    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CLOSE_WAIT_S):
            await asyncio.gather(*(close(conn) for conn in conns))
    pipe.send({"still_open": still_open, "close_codes": dict(codes), "lag_s": idle_lag_s})


def client_process(url: str, count: int, in_flight: int, pipe: Pipe) -> None:
    raise_nofile_limit()
    asyncio.run(client_main(url, count, in_flight, pipe))


# -- server, database, Redis -------------------------------------------------------------------


@contextlib.asynccontextmanager
async def scratch_database(url: str | None, tmp: Path) -> AsyncIterator[str]:
    """A SQLite file in ``tmp``, or a new PostgreSQL database (upgraded), dropped afterwards."""
    if url is None or url.startswith("sqlite"):
        yield url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"  # serve upgrades SQLite itself
        return
    from tests.conftest import _create_pg_database, _drop_pg_database
    from tests.support.server import upgrade_database

    scratch_url, name = await _create_pg_database(url)
    try:
        await upgrade_database(scratch_url)
        yield scratch_url
    finally:
        await _drop_pg_database(url, name)


@contextlib.contextmanager
def private_redis(tmp: Path) -> Iterator[str]:
    """A throwaway ``redis-server`` on a free loopback port, nothing kept on disk."""
    from tests.support.server import free_port

    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("error: --private-redis needs redis-server on PATH")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp), "--logfile", str(tmp / "redis.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=SERVER_STOP_S)


async def wait_healthy(base: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    async with httpx.AsyncClient() as client, asyncio.timeout(STARTUP_WAIT_S):
        while True:
            if server.poll() is not None:
                raise SystemExit(f"error: the server exited at startup:\n{tail(log_path)}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def wait_redis(url: str) -> None:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    redis = Redis.from_url(url)
    try:
        async with asyncio.timeout(STARTUP_WAIT_S):
            while True:
                with contextlib.suppress(RedisError, OSError):
                    await redis.ping()
                    return
                await asyncio.sleep(0.1)
    finally:
        await redis.aclose()


async def metric(base: str, name: str) -> float:
    async with httpx.AsyncClient() as client:
        for line in (await client.get(f"{base}/metrics")).text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return float("nan")


async def wait_quiet(pid: int, deadline_s: float) -> float:
    """Wait until the server used under ``QUIET_CPU`` of a core for 2 s; when it became so."""
    last, quiet_since, quiet_s = cpu_seconds(pid), time.perf_counter(), 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(deadline_s):
            while quiet_s < 2:
                await asyncio.sleep(1)
                now = cpu_seconds(pid)
                if now - last >= QUIET_CPU:
                    quiet_since, quiet_s = time.perf_counter(), 0
                else:
                    quiet_s += 1
                last = now
    return quiet_since


class ServerProbe:
    """``/healthz`` every ``PROBE_EVERY_S``: the slowest answer is the server loop's stall."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.worst_s = 0.0
        self.stalls = 0

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            while True:
                started = time.perf_counter()
                with contextlib.suppress(httpx.HTTPError):
                    await client.get(f"{self.base}/healthz")
                took = time.perf_counter() - started
                self.worst_s = max(self.worst_s, took)
                self.stalls += took >= STALL_S
                await asyncio.sleep(PROBE_EVERY_S)

    def take(self) -> str:
        text = f"longest {self.worst_s:.2f} s, {self.stalls} answers >= {STALL_S:.0f} s"
        self.worst_s, self.stalls = 0.0, 0
        return text


def gc_pauses(path: Path | None, start: float, end: float) -> str:
    """The server's full collections between two unix times (from ``--trace-gc``)."""
    if path is None:
        return ""
    full: list[float] = []
    objects = 0
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            stamp, generation, took, tracked = line.split()
            if start <= float(stamp) <= end and generation == "2":
                full.append(float(took))
                objects = int(tracked)
    if not full:
        return "no full GC"
    return (
        f"{len(full)} full GCs, longest {max(full):.2f} s, total {sum(full):.2f} s; "
        f"{objects:,} objects tracked after the last"
    )


async def commandstats(url: str) -> dict[str, tuple[int, int]]:
    """Redis ``INFO commandstats``: command -> (calls, usec)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        stats = await redis.info("commandstats")
    finally:
        await redis.aclose()
    return {
        name.removeprefix("cmdstat_"): (int(value["calls"]), int(value["usec"]))
        for name, value in stats.items()
    }


def report_redis(
    before: dict[str, tuple[int, int]],
    after: dict[str, tuple[int, int]],
    beats: float,
    *,
    shared: bool,
) -> None:
    delta = {
        name: (calls - before.get(name, (0, 0))[0], usec - before.get(name, (0, 0))[1])
        for name, (calls, usec) in after.items()
        if name != "info"  # this script's own measurement
    }
    delta = {name: value for name, value in delta.items() if value[0] > 0}
    total = sum(calls for calls, _ in delta.values())
    scripts = sum(delta.get(name, (0, 0))[0] for name in ("evalsha", "eval"))
    script_us = sum(delta.get(name, (0, 0))[1] for name in ("evalsha", "eval"))
    scope = "Redis-wide, other clients included" if shared else "this server only"
    print(f"redis while idle    ({scope}): in the window / per heartbeat")
    print(
        f"  {total:>9,} {total / beats:>10,.1f}  commands executed, of which "
        f"{scripts:,} script calls ({scripts / beats:,.1f}/heartbeat) "
        f"taking {script_us / beats / 1000:.1f} ms of Redis time per heartbeat"
    )
    for name, (calls, _) in sorted(delta.items(), key=lambda item: -item[1][0]):
        print(f"  {calls:>9,} {calls / beats:>10,.1f}  {name}")


def tail(path: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


# -- the run -----------------------------------------------------------------------------------


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def receive(pipe: Pipe, deadline_s: float) -> Any:
    """The next report of a client process, or give up (the run is bounded)."""
    if not await asyncio.to_thread(pipe.poll, deadline_s):
        raise SystemExit("error: a client process did not report in time")
    return pipe.recv()


async def run(args: argparse.Namespace, tmp: Path, redis_url: str | None) -> None:
    from tests.support.server import free_port

    soft, hard = raise_nofile_limit()
    print(f"RLIMIT_NOFILE       soft {soft}, hard {hard} (this process; inherited)", flush=True)
    async with scratch_database(args.database_url, tmp) as database_url:
        port = free_port()
        env = {
            **os.environ,
            "CHATDESK_DATABASE_URL": database_url,
            "CHATDESK_HOST": "127.0.0.1",
            "CHATDESK_PORT": str(port),
            "CHATDESK_SECRET_KEY": "bench-secret-0123456789abcdef",
            "CHATDESK_BOT_SEMANTIC": "off",
            "CHATDESK_RATE_LIMITS": "off",
            "CHATDESK_HEARTBEAT_S": str(args.heartbeat_s),
            "CHATDESK_LOG_LEVEL": "warning",
            "CHATDESK_FAQ_DIR": str(ROOT / "faq"),
        }
        env.pop("CHATDESK_REDIS_URL", None)
        if redis_url is not None:
            env["CHATDESK_REDIS_URL"] = redis_url
            env["CHATDESK_REDIS_NAMESPACE"] = f"bench-{uuid.uuid4().hex[:12]}"
            await wait_redis(redis_url)
        command = [sys.executable, "-m", "chatdesk", "serve"]
        gc_log = None
        if args.trace_gc or args.gc_freeze:
            gc_log = tmp / "gc.log"
            env["BENCH_GC_LOG"] = str(gc_log)
            if args.gc_freeze:
                env["BENCH_GC_FREEZE"] = "1"
            command = [sys.executable, "-c", GC_BOOTSTRAP]
        log_path = args.server_log or tmp / "server.log"
        with log_path.open("ab") as log:
            server = subprocess.Popen(  # noqa: ASYNC220 - starting is quick; waiting is async
                command, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT
            )
        clients: list[BaseProcess] = []
        try:
            await wait_healthy(f"http://127.0.0.1:{port}", server, log_path)
            await measure(args, server, port, redis_url, clients, gc_log)
        finally:
            for client in clients:
                if client.is_alive():
                    client.terminate()
            server.terminate()
            try:
                await asyncio.to_thread(server.wait, SERVER_STOP_S)
            except subprocess.TimeoutExpired:
                server.kill()
                await asyncio.to_thread(server.wait, SERVER_STOP_S)
            report_server_log(server, log_path)


def report_server_log(server: subprocess.Popen[bytes], log_path: Path) -> None:
    lines = tail(log_path, 100_000).splitlines()
    kinds = Counter(
        line[24:].split(":")[0] for line in lines if " WARNING " in line or " ERROR " in line
    )
    for kind, count in kinds.most_common(5):
        example = next(line for line in lines if kind in line)
        print(f"server log          {count} x {kind}, e.g. {example[24:200]}")
    if server.returncode not in (0, -15):
        print(f"server exit code    {server.returncode}; last lines:\n{tail(log_path)}")


async def measure(
    args: argparse.Namespace,
    server: subprocess.Popen[bytes],
    port: int,
    redis_url: str | None,
    clients: list[BaseProcess],
    gc_log: Path | None,
) -> None:
    pid = server.pid
    base = f"http://127.0.0.1:{port}"
    kind = "postgresql" if (args.database_url or "").startswith("postgresql") else "sqlite"
    redis_kind = "none" if redis_url is None else ("private" if args.private_redis else "shared")
    gc_mode = " (what-if: gc.freeze after full GCs)" if args.gc_freeze else ""
    print(
        f"server              pid {pid}, {kind}, redis {redis_kind}, "
        f"HEARTBEAT_S {args.heartbeat_s}{gc_mode}"
    )
    print(f"server open files   {nofile_limits(pid)}")
    await asyncio.sleep(1)  # startup settles (FAQ index, first routing pass)
    rss_before = rss_mb(pid)
    print(f"server RSS before   {rss_before:.1f} MiB ({open_files(pid)} open files)", flush=True)
    probe = ServerProbe(base)
    probe_task = asyncio.create_task(probe.run())

    parts = args.clients or max(1, math.ceil(args.visitors / VISITORS_PER_CLIENT))
    context = multiprocessing.get_context("spawn")
    pipes: list[Pipe] = []
    cpu_open_before = cpu_seconds(pid)
    open_started, started = time.time(), time.perf_counter()
    for count in split(args.visitors, parts):
        mine, theirs = context.Pipe()
        process = context.Process(
            target=client_process,
            args=(f"ws://127.0.0.1:{port}/ws/visitor", count, args.in_flight, theirs),
            daemon=True,
        )
        process.start()
        clients.append(process)
        pipes.append(mine)
    opened = [await receive(pipe, args.deadline_s) for pipe in pipes]
    open_s = time.perf_counter() - started
    cpu_open = cpu_seconds(pid) - cpu_open_before
    total = sum(report["opened"] for report in opened)
    failures: Counter[str] = Counter()
    for report in opened:
        failures.update(report["failures"])
    held = await metric(base, "chatdesk_visitor_connections")
    print(f"client processes    {parts}, {args.in_flight} handshakes in flight each")
    print(
        f"opened              {total} / {args.visitors} in {open_s:.1f} s "
        f"({total / open_s:,.0f}/s; server CPU {cpu_open:.1f} s = "
        f"{cpu_open / max(total, 1) * 1e3:.2f} ms/visitor)"
    )
    for reason, count in failures.most_common(5):
        print(f"  failed {count:>6}  {reason}")
    print(f"server holds        {held:.0f} visitor sockets ({open_files(pid)} open files)")
    if server.poll() is not None:
        raise SystemExit("error: the server died while connections were opening")
    rss_open = rss_mb(pid)
    per_conn_kb = (rss_open - rss_before) * 1024 / max(total, 1)
    print(f"server RSS after    {rss_open:.1f} MiB (+{per_conn_kb:.1f} KiB per connection)")
    client_lag_s = max(report["lag_s"] for report in opened)
    print(
        f"stalls, opening     server: {probe.take()}; "
        f"clients: longest loop lag {client_lag_s:.2f} s"
    )
    if gc_log is not None:
        print(f"server GC, opening  {gc_pauses(gc_log, open_started, time.time())}")

    await asyncio.sleep(args.heartbeat_s)  # one heartbeat to settle (welcome frames, sweeps)
    stats_before = await commandstats(redis_url) if redis_url else {}
    probe.take()
    cpu_before = cpu_seconds(pid)
    idle_started, started = time.time(), time.perf_counter()
    await asyncio.sleep(args.heartbeats * args.heartbeat_s)
    idle_s = time.perf_counter() - started
    cpu_idle = cpu_seconds(pid) - cpu_before
    stats_after = await commandstats(redis_url) if redis_url else {}
    beats = idle_s / args.heartbeat_s
    print(
        f"idle                {idle_s:.1f} s = {beats:.2f} heartbeats: server CPU "
        f"{cpu_idle / beats:.3f} s per heartbeat ({cpu_idle / idle_s * 100:.1f}% of a core at "
        f"HEARTBEAT_S {args.heartbeat_s}; ~{cpu_idle / beats / 20 * 100:.1f}% at the default 20)"
    )
    print(f"server RSS idle     {rss_mb(pid):.1f} MiB")
    idle_probe = probe.take()
    if redis_url:
        report_redis(stats_before, stats_after, beats, shared=not args.private_redis)

    for pipe in pipes:
        pipe.send("close")
    started = time.perf_counter()
    cpu_close_before = cpu_seconds(pid)
    closed = [await receive(pipe, args.deadline_s) for pipe in pipes]
    client_lag_s = max(report["lag_s"] for report in closed)
    print(
        f"stalls, idle        server: {idle_probe}; clients: longest loop lag "
        f"{client_lag_s:.2f} s (ping timeout {args.heartbeat_s / 2} s)"
    )
    if gc_log is not None:
        print(f"server GC, idle     {gc_pauses(gc_log, idle_started, idle_started + idle_s)}")
    still_open = sum(report["still_open"] for report in closed)
    codes: Counter[str] = Counter()
    for report in closed:
        codes.update(report["close_codes"])
    lost = total - still_open
    print(f"still open at end   {still_open} / {total} (lost after their welcome: {lost})")
    for code, count in codes.most_common(5):
        print(f"  lost {count:>6}  close code {code}")
    print(f"clients closed      in {time.perf_counter() - started:.1f} s")
    # Each close costs the server a liveness removal, a liveness query and a database
    # update, after the socket left the hub: wait until the server is quiet again, so that
    # stopping it does not cut that work short.
    busy_s = await wait_quiet(pid, args.deadline_s) - started
    left = await metric(base, "chatdesk_visitor_connections")
    cpu_close = cpu_seconds(pid) - cpu_close_before
    print(
        f"server released     {total - left:.0f} sockets, busy {busy_s:.1f} s "
        f"(server CPU {cpu_close:.1f} s = {cpu_close / max(total, 1) * 1e3:.2f} ms/visitor)"
    )
    probe_task.cancel()
    for client in clients:
        await asyncio.to_thread(client.join, CLOSE_WAIT_S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=19_000)
    parser.add_argument("--clients", type=int, default=0, help="client processes (0: auto)")
    parser.add_argument("--in-flight", type=int, default=100, help="handshakes per client")
    parser.add_argument("--heartbeat-s", type=float, default=5.0)
    parser.add_argument("--heartbeats", type=int, default=4, help="idle heartbeats measured")
    parser.add_argument("--database-url", default=None, help="PostgreSQL admin URL")
    redis = parser.add_mutually_exclusive_group()
    redis.add_argument("--redis-url", default=None)
    redis.add_argument("--private-redis", action="store_true", help="start a redis-server")
    # Opening 19,000 visitors takes this 2-core machine 3-4 minutes (~10 ms of server CPU each).
    parser.add_argument("--deadline-s", type=float, default=420, help="bound on each phase")
    parser.add_argument("--server-log", type=Path, default=None, help="keep the server's log")
    parser.add_argument("--trace-gc", action="store_true", help="log the server's full GCs")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="what-if: gc.freeze() after each full GC"
    )
    args = parser.parse_args()
    uses_redis = args.redis_url is not None or args.private_redis
    if uses_redis and not (args.database_url or "").startswith("postgresql"):
        parser.error("Redis (scale-out) needs --database-url postgresql+asyncpg://...")
    with tempfile.TemporaryDirectory(prefix="chatdesk-idle-") as name:
        tmp = Path(name)
        with contextlib.ExitStack() as stack:
            redis_url = stack.enter_context(private_redis(tmp)) if args.private_redis else None
            asyncio.run(run(args, tmp, redis_url or args.redis_url))


if __name__ == "__main__":
    main()
