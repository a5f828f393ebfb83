"""How long does the Redis broker take to recover after Redis is SIGKILLed and restarted?

Starts a private ``redis-server`` (127.0.0.1, free port, no persistence, temporary dir),
two brokers (a publisher and a listener process, in one event loop), then per cycle:
SIGKILL Redis, wait until both brokers report unhealthy, keep Redis down for
``--outage-s``, restart it on the same port, and time from "server ready" to (a) the
listener's gap callback and (b) the first notification delivered live again. Default
broker settings are used (backoff 0.1 s doubling, capped at 5 s, with jitter), so a longer
outage shows the backoff's cost.

    .venv/bin/python bench/redis_restart.py [--cycles 5] [--outage-s 0 1 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package

from tests.support.redis_server import PrivateRedis
from tests.support.server import free_port

from chatdesk.broker import RedisBroker

WAIT_S = 60.0  # hang protection


async def one_cycle(
    server: PrivateRedis,
    listener: RedisBroker,
    publisher: RedisBroker,
    *,
    gap: asyncio.Event,
    outage_s: float,
) -> tuple[float, float, float]:
    """Return (loss detected, gap callback, live delivery) in seconds."""
    gap.clear()
    async with listener.subscribe("bench.restart") as sub, asyncio.timeout(WAIT_S):
        killed = time.perf_counter()
        await server.kill()
        await listener.wait_healthy(False)
        await publisher.wait_healthy(False)
        detected_s = time.perf_counter() - killed
        await asyncio.sleep(outage_s)
        await server.start()
        ready = time.perf_counter()
        await gap.wait()
        gap_s = time.perf_counter() - ready
        await publisher.wait_healthy()
        await publisher.publish("bench.restart", {"n": 1})
        async for note in sub:
            if not note.is_gap:
                break
        return detected_s, gap_s, time.perf_counter() - ready


async def main(cycles: int, outages_s: list[float]) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        server = PrivateRedis(Path(workdir), free_port())
        await server.start()
        listener = RedisBroker(server.url, namespace="bench")
        publisher = RedisBroker(server.url, namespace="bench")
        gap = asyncio.Event()

        async def on_gap() -> None:
            gap.set()

        listener.on_gap(on_gap)
        await listener.start()
        await publisher.start()
        try:
            print(f"redis restart recovery, {cycles} cycles per outage length (times in ms)")
            print(f"{'outage_s':>8} {'detect':>8} {'gap p50':>8} {'gap max':>8} "
                  f"{'live p50':>9} {'live max':>9}")  # fmt: skip
            for outage_s in outages_s:
                results = [
                    await one_cycle(server, listener, publisher, gap=gap, outage_s=outage_s)
                    for _ in range(cycles)
                ]
                detect = [r[0] * 1000 for r in results]
                gaps = [r[1] * 1000 for r in results]
                live = [r[2] * 1000 for r in results]
                print(
                    f"{outage_s:>8.1f} {statistics.median(detect):>8.1f} "
                    f"{statistics.median(gaps):>8.1f} {max(gaps):>8.1f} "
                    f"{statistics.median(live):>9.1f} {max(live):>9.1f}"
                )
            print(f"reconnects: listener {listener.reconnects}, publisher drops "
                  f"{publisher.dropped}")  # fmt: skip
        finally:
            await listener.close()
            await publisher.close()
            await server.kill()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--outage-s", type=float, nargs="+", default=[0.0, 1.0, 3.0])
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the expected "connection lost" warnings
    asyncio.run(main(args.cycles, args.outage_s))
