"""Concurrent requests share one batch: every drawing that arrived while the last batch ran goes into the next.

On a 2-core CPU the facades generator (bf16) paints ~80 pictures/s one at a time and 110-140 in batches of
2-8 (bench/bench_runtimes.py), so a busy classroom gets more pictures per second from the same cores, while a
lone visitor's drawing still runs at once, alone. The batches run on the process's model thread
(pix2pix/model_thread.py), like everything else the models do.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from pix2pix.model_thread import MODELS, ModelThread

Item = TypeVar("Item")
Result = TypeVar("Result")


class SharedBatches(Generic[Item, Result]):
    """`run(item)` returns `work(batch)[i]` for the batch, of at most `max_batch` items, that `item` joined."""

    def __init__(self, work: Callable[[list[Item]], list[Result]], max_batch: int, thread: ModelThread = MODELS):
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        self._work = work
        self._max_batch = max_batch
        self._thread = thread
        self._waiting: queue.SimpleQueue[tuple[Item, Future]] = queue.SimpleQueue()

    def run(self, item: Item) -> Result:
        """The result for `item`, computed in a batch with whatever else is waiting; the work's error, if any."""
        future: Future = Future()
        self._waiting.put((item, future))
        if self._thread.on_it():
            self._run_waiting()
        else:
            self._thread.submit(self._run_waiting)  # one per item: the first takes every item waiting by then
        return future.result()

    def _run_waiting(self) -> None:
        jobs: list[tuple[Item, Future]] = []
        while len(jobs) < self._max_batch:
            try:
                jobs.append(self._waiting.get_nowait())
            except queue.Empty:
                break
        if not jobs:  # an earlier batch took them
            return
        try:
            results = self._work([item for item, _ in jobs])
        except BaseException as error:  # every caller of the batch gets the error
            for _, future in jobs:
                future.set_exception(error)
            return
        for (_, future), result in zip(jobs, results, strict=True):
            future.set_result(result)
