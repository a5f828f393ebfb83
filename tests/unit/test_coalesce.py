"""Coalescer: concurrent callers share batches, each returns when its own batch is done, and
a batch's error reaches exactly that batch's callers."""

from __future__ import annotations

import asyncio

import pytest

from chatdesk.coalesce import Coalescer


class Recorder:
    def __init__(self, *, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on
        self.release = asyncio.Event()
        self.release.set()

    async def work(self, keys: list[str]) -> None:
        self.batches.append(keys)
        await self.release.wait()
        if self.fail_on in keys:
            raise RuntimeError(f"batch with {self.fail_on} failed")


async def test_simultaneous_callers_share_one_batch_and_duplicates_run_once() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.work, max_batch=100, name="test")
    await asyncio.gather(*(coalescer.submit(f"v{n % 40}") for n in range(80)))
    assert recorder.batches == [[f"v{n}" for n in range(40)]]
    assert coalescer.batches == 1


async def test_keys_submitted_while_a_batch_runs_go_into_the_next_and_batches_are_bounded() -> None:
    recorder = Recorder()
    recorder.release.clear()
    coalescer = Coalescer(recorder.work, max_batch=3, name="test")
    first = asyncio.create_task(coalescer.submit("a"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the first batch is running (and held)
    assert recorder.batches == [["a"]]
    later = [asyncio.create_task(coalescer.submit(key)) for key in "bcdefg"]
    await asyncio.sleep(0)
    assert not first.done()
    recorder.release.set()
    await asyncio.gather(first, *later)
    assert recorder.batches == [["a"], ["b", "c", "d"], ["e", "f", "g"]]


async def test_a_failed_batch_raises_for_its_callers_only_and_later_batches_run() -> None:
    recorder = Recorder(fail_on="bad")
    recorder.release.clear()
    coalescer = Coalescer(recorder.work, max_batch=2, name="test")
    calls = [asyncio.create_task(coalescer.submit(key)) for key in ("ok", "bad", "fine")]
    await asyncio.sleep(0)
    recorder.release.set()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["RuntimeError", "RuntimeError", "NoneType"]
    assert recorder.batches == [["ok", "bad"], ["fine"]]
    await coalescer.submit("again")  # the coalescer is still usable
    assert recorder.batches[-1] == ["again"]


async def test_a_cancelled_caller_does_not_disturb_its_batch() -> None:
    recorder = Recorder()
    recorder.release.clear()
    coalescer = Coalescer(recorder.work, max_batch=10, name="test")
    leaving = asyncio.create_task(coalescer.submit("leaving"))
    staying = asyncio.create_task(coalescer.submit("staying"))
    await asyncio.sleep(0)
    leaving.cancel()
    recorder.release.set()
    await staying
    assert leaving.cancelled()
    assert recorder.batches == [["leaving", "staying"]]


async def test_close_waits_for_the_batches_submitted() -> None:
    recorder = Recorder()
    recorder.release.clear()
    coalescer = Coalescer(recorder.work, max_batch=10, name="test")
    call = asyncio.create_task(coalescer.submit("last"))
    await asyncio.sleep(0)
    closing = asyncio.create_task(coalescer.close())
    await asyncio.sleep(0)
    assert not closing.done()
    recorder.release.set()
    await closing
    await call
    assert recorder.batches == [["last"]]
    await coalescer.close()  # nothing pending: returns at once


def test_a_batch_needs_room_for_one_key() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Coalescer(Recorder().work, max_batch=0, name="test")


async def test_cancelling_the_batch_cancels_its_callers_and_the_ones_waiting() -> None:
    recorder = Recorder()
    recorder.release.clear()
    coalescer = Coalescer(recorder.work, max_batch=1, name="test")
    running = asyncio.create_task(coalescer.submit("running"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the first batch is running (and held)
    waiting = asyncio.create_task(coalescer.submit("waiting"))
    await asyncio.sleep(0)
    drain = next(t for t in asyncio.all_tasks() if t.get_name() == "test")
    drain.cancel()
    results = await asyncio.gather(running, waiting, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert recorder.batches == [["running"]]
