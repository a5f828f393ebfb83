"""Persisted-and-delivered messages per second through a real server (loopback only).

Starts ``chatdesk serve`` as a subprocess (rate limits off) on a fresh database, connects
agents (auto-accept) and visitors, hands every visitor over so each conversation has an
agent, then has every visitor send messages with a bounded window of unacknowledged ones.
A message counts when its sender got the acknowledgement (it is committed) AND the agent
received it. Prints messages/s, commits per message (group commit) and server CPU/message.

    .venv/bin/python bench/throughput.py --visitors 200 --messages 50 [--database-url URL]

With a PostgreSQL URL (an admin connection), a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import _create_pg_database, _drop_pg_database  # noqa: E402
from tests.support.server import free_port, upgrade_database  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


async def add_agent(base: str, env: dict[str, str], index: int, tmp: Path) -> str:
    email = f"bench{index}@example.com"
    await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "chatdesk",
            "agents",
            "add",
            "--email",
            email,
            "--name",
            f"Bench {index}",
            "--max-chats",
            "50",
            "--auto-accept",
        ],
        input=b"bench-password\n",
        env=env,
        cwd=tmp,
        check=True,
        capture_output=True,
    )
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": "bench-password"}
        )
        response.raise_for_status()
        return str(response.json()["token"])


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="chatdesk-bench-"))
    port = free_port()
    database_url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    env = {
        **os.environ,
        "CHATDESK_DATABASE_URL": database_url,
        "CHATDESK_SECRET_KEY": "bench-secret-0123456789abcdef",
        "CHATDESK_RATE_LIMITS": "off",
        "CHATDESK_PORT": str(port),
        "CHATDESK_LOG_LEVEL": "warning",
        "CHATDESK_FAQ_DIR": str(ROOT / "faq"),
    }
    scratch_database = None
    if not database_url.startswith("sqlite"):
        # A database of its own, dropped afterwards: never the one the URL names.
        admin_url = database_url
        database_url, scratch_database = await _create_pg_database(admin_url)
        env["CHATDESK_DATABASE_URL"] = database_url
        await upgrade_database(database_url)
    else:
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "chatdesk", "db", "upgrade"],
            env=env,
            cwd=tmp,
            check=True,
        )
    agents_needed = max(1, (args.visitors + 49) // 50)
    tokens = []
    server = subprocess.Popen(  # noqa: ASYNC220 - starting is quick; the bench waits async
        [sys.executable, "-m", "chatdesk", "serve"], env=env, cwd=tmp
    )
    print(f"server pid          {server.pid}", flush=True)
    base = f"http://127.0.0.1:{port}"
    ws = f"ws://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    if (await client.get(f"{base}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        for index in range(agents_needed):
            tokens.append(await add_agent(base, env, index, tmp))
        received = 0
        expected = args.visitors * args.messages
        all_received = asyncio.Event()

        async def agent_loop(token: str, ready: asyncio.Event) -> None:
            nonlocal received
            async with websockets.connect(
                f"{ws}/ws/agent", compression=None, max_queue=None
            ) as conn:
                await conn.send(json.dumps({"type": "auth", "token": token}))
                await conn.send(json.dumps({"type": "status", "status": "online"}))
                ready.set()
                async for raw in conn:
                    frame = json.loads(raw)
                    if frame["type"] == "message" and frame["author"] == "visitor":
                        if frame["text"].startswith("m"):
                            received += 1
                            if received >= expected:
                                all_received.set()

        agent_tasks = []
        for token in tokens:
            ready = asyncio.Event()
            agent_tasks.append(asyncio.create_task(agent_loop(token, ready)))
            await ready.wait()

        async def visitor_loop(start: asyncio.Event, done: list[int]) -> None:
            async with websockets.connect(f"{ws}/ws/visitor", compression=None) as conn:
                await conn.send(json.dumps({"type": "hello", "lang": "en"}))
                await conn.send(json.dumps({"type": "handoff"}))
                while True:
                    frame = json.loads(await conn.recv())
                    if frame["type"] == "agent_joined":
                        break
                await start.wait()
                window = asyncio.Semaphore(args.window)
                acked = 0
                pending: set[str] = set()

                async def reader() -> None:
                    nonlocal acked
                    async for raw in conn:
                        frame = json.loads(raw)
                        if frame["type"] == "message" and frame.get("client_id") in pending:
                            pending.discard(frame["client_id"])
                            acked += 1
                            window.release()
                            if acked == args.messages:
                                return

                read = asyncio.create_task(reader())
                for n in range(args.messages):
                    await window.acquire()
                    client_id = uuid.uuid4().hex
                    pending.add(client_id)
                    await conn.send(
                        json.dumps({"type": "message", "client_id": client_id, "text": f"m{n}"})
                    )
                await read
                done.append(acked)

        start = asyncio.Event()
        done: list[int] = []
        visitors = [asyncio.create_task(visitor_loop(start, done)) for _ in range(args.visitors)]
        while len(done) == 0 and not all(v.done() for v in visitors):
            await asyncio.sleep(0.2)
            metrics = (await httpx.AsyncClient().get(f"{base}/metrics")).text
            if f"chatdesk_visitor_connections {args.visitors}" in metrics:
                break
        await asyncio.sleep(1.5)  # let every hand-off settle
        metrics_before = (await httpx.AsyncClient().get(f"{base}/metrics")).text
        cpu_before = cpu_seconds(server.pid)
        started = time.perf_counter()
        start.set()
        profiler = None
        if args.profile:  # py-spy (pip install py-spy) samples the server while it works
            profiler = subprocess.Popen(  # noqa: ASYNC220 - starts at once
                [
                    "py-spy",
                    "record",
                    "--pid",
                    str(server.pid),
                    "--duration",
                    "8",
                    "--format",
                    "raw",
                    "--output",
                    args.profile,
                    "--nonblocking",
                ],
            )
        async with asyncio.timeout(args.timeout):
            await asyncio.gather(*visitors)
            await all_received.wait()
        elapsed = time.perf_counter() - started
        cpu_used = cpu_seconds(server.pid) - cpu_before
        metrics_after = (await httpx.AsyncClient().get(f"{base}/metrics")).text
        for task in agent_tasks:
            task.cancel()
        if profiler is not None:
            profiler.wait(timeout=60)

        def metric(text: str, name: str) -> float:
            for line in text.splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
            return 0.0

        stored = metric(metrics_after, "chatdesk_messages_stored_total") - metric(
            metrics_before, "chatdesk_messages_stored_total"
        )
        commits = metric(metrics_after, "chatdesk_message_commits_total") - metric(
            metrics_before, "chatdesk_message_commits_total"
        )
        kind = "postgresql" if "postgresql" in database_url else "sqlite"
        print(f"database            {kind}")
        print(f"visitors x messages {args.visitors} x {args.messages} (window {args.window})")
        print(f"acked and delivered {sum(done)} / {received} in {elapsed:.2f} s")
        print(f"throughput          {expected / elapsed:,.0f} messages/s")
        print(f"messages per commit {stored / max(commits, 1):.1f}")
        print(f"server CPU          {cpu_used:.2f} s = {cpu_used / expected * 1e6:.0f} us/message")
    finally:
        server.terminate()
        server.wait(timeout=20)
        if scratch_database is not None:
            await _drop_pg_database(admin_url, scratch_database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--profile", default=None, help="py-spy raw profile output file")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
