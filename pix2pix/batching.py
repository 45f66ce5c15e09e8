"""Concurrent requests share one batch: the model runs on a thread of its own over every drawing that
arrived while the last batch ran.

On a 2-core CPU the facades generator (bf16) paints ~80 pictures/s one at a time and 110-140 in batches of
2-8 (bench/bench_runtimes.py), so a busy classroom gets more pictures per second from the same cores, while a lone
visitor's drawing still runs at once, alone. One thread also means one OpenMP team, not one per request
thread. The thread ends after IDLE_SECONDS without work (a Translator that is dropped is freed) and starts
again with the next request.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
IDLE_SECONDS = 30.0


class SharedBatches(Generic[Item, Result]):
    """`run(item)` returns `work(batch)[i]` for the batch, of at most `max_batch` items, that `item` joined."""

    def __init__(self, work: Callable[[list[Item]], list[Result]], max_batch: int, name: str = "shared-batches"):
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        self._work = work
        self._max_batch = max_batch
        self.name = name  # the thread's, as thread dumps and debuggers show it
        self._waiting: queue.SimpleQueue[tuple[Item, Future]] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards starting and ending the thread
        self._thread: threading.Thread | None = None

    def run(self, item: Item) -> Result:
        """The result for `item`, computed in a batch with whatever else is waiting; the work's error, if any."""
        future: Future = Future()
        with self._lock:
            self._waiting.put((item, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._thread.start()
        return future.result()

    def _serve(self) -> None:
        while True:
            try:
                jobs = [self._waiting.get(timeout=IDLE_SECONDS)]
            except queue.Empty:
                with self._lock:
                    if self._waiting.empty():  # nothing arrived since: end; the next run() starts a new thread
                        self._thread = None
                        return
                continue
            while len(jobs) < self._max_batch:
                try:
                    jobs.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                results = self._work([item for item, _ in jobs])
            except BaseException as error:  # every waiting caller gets the error; the thread serves on
                for _, future in jobs:
                    future.set_exception(error)
                continue
            for (_, future), result in zip(jobs, results, strict=True):
                future.set_result(result)
