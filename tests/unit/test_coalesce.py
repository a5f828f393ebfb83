"""Coalescer: concurrent callers share batches, each returns when its own batch is done, and
a batch's error reaches exactly that batch's callers."""

from __future__ import annotations

import asyncio

import pytest

from chatdesk.coalesce import Coalescer


class Recorder:
    """The work: records each batch, then waits for ``release`` (set unless ``held``)."""

    def __init__(self, *, held: bool = False, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on
        self.release = asyncio.Event()
        if not held:
            self.release.set()

    async def work(self, keys: list[str]) -> None:
        self.batches.append(keys)
        await self.release.wait()
        if self.fail_on in keys:
            raise RuntimeError(f"batch with {self.fail_on} failed")


def held(max_batch: int, *, fail_on: str | None = None) -> tuple[Recorder, Coalescer[str]]:
    """A coalescer whose batches wait for ``recorder.release``."""
    recorder = Recorder(held=True, fail_on=fail_on)
    return recorder, Coalescer(recorder.work, max_batch=max_batch, name="test")


async def first_batch(
    recorder: Recorder, coalescer: Coalescer[str], key: str
) -> asyncio.Task[None]:
    """Submit ``key``; return once its batch is running (and held)."""
    call = asyncio.create_task(coalescer.submit(key))
    await asyncio.sleep(0)  # the call submits and starts the batch task
    await asyncio.sleep(0)  # the batch task runs the work
    assert recorder.batches == [[key]]
    return call


async def test_simultaneous_callers_share_one_batch_and_duplicates_run_once() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.work, max_batch=100, name="test")
    await asyncio.gather(*(coalescer.submit(f"v{n % 40}") for n in range(80)))
    assert recorder.batches == [[f"v{n}" for n in range(40)]]
    assert coalescer.batches == 1


async def test_keys_submitted_while_a_batch_runs_go_into_the_next_and_batches_are_bounded() -> None:
    recorder, coalescer = held(3)
    first = await first_batch(recorder, coalescer, "a")
    later = [asyncio.create_task(coalescer.submit(key)) for key in "bcdefg"]
    await asyncio.sleep(0)
    assert not first.done()
    recorder.release.set()
    await asyncio.gather(first, *later)
    assert recorder.batches == [["a"], ["b", "c", "d"], ["e", "f", "g"]]


async def test_a_failed_batch_raises_for_its_callers_only_and_later_batches_run() -> None:
    recorder, coalescer = held(2, fail_on="bad")
    calls = [asyncio.create_task(coalescer.submit(key)) for key in ("ok", "bad", "fine")]
    await asyncio.sleep(0)
    recorder.release.set()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["RuntimeError", "RuntimeError", "NoneType"]
    assert recorder.batches == [["ok", "bad"], ["fine"]]
    await coalescer.submit("again")  # the coalescer is still usable
    assert recorder.batches[-1] == ["again"]


async def test_a_cancelled_caller_does_not_disturb_its_batch() -> None:
    recorder, coalescer = held(10)
    leaving = asyncio.create_task(coalescer.submit("leaving"))
    staying = asyncio.create_task(coalescer.submit("staying"))
    await asyncio.sleep(0)
    leaving.cancel()
    recorder.release.set()
    await staying
    assert leaving.cancelled()
    assert recorder.batches == [["leaving", "staying"]]


async def test_cancelling_the_batch_cancels_its_callers_and_the_ones_waiting() -> None:
    recorder, coalescer = held(1)
    running = await first_batch(recorder, coalescer, "running")
    waiting = asyncio.create_task(coalescer.submit("waiting"))
    await asyncio.sleep(0)
    drain = next(task for task in asyncio.all_tasks() if task.get_name() == "test")
    drain.cancel()
    results = await asyncio.gather(running, waiting, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert recorder.batches == [["running"]]


async def test_close_waits_for_the_batches_submitted() -> None:
    recorder, coalescer = held(10)
    call = await first_batch(recorder, coalescer, "last")
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
