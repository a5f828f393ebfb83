"""Server CPU per message: one process versus two (PostgreSQL + Redis scale-out).

The load generator, PostgreSQL and Redis share this machine with the servers, so wall-clock
throughput says little; what is measured is the servers' own CPU (utime + stime from
``/proc/<pid>/stat``) spent per chat message stored and delivered. Each run starts N
``chatdesk serve`` processes on a fresh database, assigns ``--pairs`` visitor/agent pairs
(visitor on process i, agent on process i+1, so with two processes every message crosses
them), then each visitor sends ``--messages`` messages, each acknowledged and received by
the agent. Bounded in count; loopback only.

    CHATDESK_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \
    CHATDESK_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \
    .venv/bin/python bench/scaleout.py [--pairs 20] [--messages 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package

from tests.support.clients import new_client_id
from tests.support.cluster import AcceptingConsole, ChatVisitor, start_cluster
from tests.support.waiting import eventually

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WAIT_S = 120  # hang protection
IDLE_S = 5.0  # idle baseline first: routing passes and heartbeats cost CPU with no messages


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def run(processes: int, *, pairs: int, messages: int) -> tuple[float, float, int, float]:
    """Return (server CPU s, wall s, messages delivered, idle server CPU s per second)."""
    with tempfile.TemporaryDirectory() as tmp:
        async with start_cluster(
            admin_database_url=os.environ["CHATDESK_TEST_DATABASE_URL"],
            redis_url=os.environ["CHATDESK_TEST_REDIS_URL"],
            tmp_path=Path(tmp),
            processes=processes,
            rate_limits="off",
            log_level="warning",
        ) as cluster:
            consoles: list[AcceptingConsole] = []
            guests: list[ChatVisitor] = []
            for index in range(pairs):
                email = f"bench{index}@x.test"
                agent_id = await cluster.create_agent(email, name="Bench", max_chats=1)
                console = AcceptingConsole(agent_id, await cluster.login(email))
                await console.connect(cluster.processes[(index + 1) % processes].ws_url)
                consoles.append(console)
            for index in range(pairs):
                guest = ChatVisitor()
                await guest.connect(cluster.processes[index % processes].ws_url)
                await guest.send({"type": "handoff"})
                guests.append(guest)

            async def all_assigned() -> bool:
                return all(console.assigned for console in consoles)

            await eventually(all_assigned, what="every chat assigned", timeout_s=WAIT_S)
            await asyncio.sleep(1)  # let routing and queue updates settle before measuring
            pids = [p.process.pid for p in cluster.processes]
            idle_before = sum(cpu_seconds(pid) for pid in pids)
            await asyncio.sleep(IDLE_S)
            cpu_before = sum(cpu_seconds(pid) for pid in pids)
            idle_per_s = (cpu_before - idle_before) / IDLE_S
            started = time.perf_counter()
            sent: set[str] = set()

            async def talk(guest: ChatVisitor) -> None:
                for _ in range(messages):
                    ack = await guest.say("a message of ordinary length", new_client_id())
                    sent.add(ack["id"])

            await asyncio.gather(*(talk(g) for g in guests))

            async def all_delivered() -> bool:
                arrived: set[str] = set()
                for console in consoles:
                    arrived |= console.arrivals.keys()
                return sent <= arrived

            await eventually(
                all_delivered, what="every message delivered", timeout_s=WAIT_S, poll_s=0.01
            )
            wall_s = time.perf_counter() - started
            cpu_s = sum(cpu_seconds(pid) for pid in pids) - cpu_before
            for console in consoles:
                await console.drop()
            for guest in guests:
                await guest.drop()
            return cpu_s, wall_s, len(sent), idle_per_s


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--messages", type=int, default=50, help="per visitor")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    rows = []
    for _ in range(args.rounds):
        for processes in (1, 2):
            row = await run(processes, pairs=args.pairs, messages=args.messages)
            rows.append((processes, *row))
    print(
        f"{'processes':>9} {'messages':>8} {'server CPU s':>12} {'CPU ms/msg':>10} "
        f"{'idle CPU %':>10} {'ms/msg net of idle':>18} {'msg/s':>6}"
    )
    for processes, cpu_s, wall_s, count, idle_per_s in rows:
        net_s = max(0.0, cpu_s - idle_per_s * wall_s)
        print(
            f"{processes:>9} {count:>8} {cpu_s:>12.2f} {cpu_s / count * 1000:>10.2f} "
            f"{idle_per_s * 100:>10.1f} {net_s / count * 1000:>18.2f} {count / wall_s:>6.0f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
