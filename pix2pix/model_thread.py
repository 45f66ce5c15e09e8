"""Every model of a process is loaded and run on one thread.

PyTorch's CPU kernels run on OpenMP (GNU libgomp in the Linux wheels), which keeps a pool of worker threads
for each thread that starts parallel work. Once it manages more threads than there are cores (a pool for the
thread that loaded a model, another for each thread that ran one), libgomp stops spinning between parallel
regions and lets its workers sleep, so each of the generator's ~100 kernels waits for a thread to wake: on
2 cores the facades generator took 21 ms a frame on a second thread against 12 ms on the thread that had
loaded it. One thread that loads and runs every model keeps one pool, and on a CPU, where one translation
already uses every core, it also makes requests take turns.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import ParamSpec, TypeVar

Result = TypeVar("Result")
Parameters = ParamSpec("Parameters")
IDLE_SECONDS = 30.0


class ModelThread:
    """Runs the work given to it one piece at a time on a thread of its own, which ends after IDLE_SECONDS
    without work (what it held is freed) and starts again with the next piece."""

    def __init__(self, name: str):
        self.name = name  # the thread's, as thread dumps and debuggers show it
        self._waiting: queue.SimpleQueue[tuple[Callable[[], object], Future]] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards starting and ending the thread
        self._thread: threading.Thread | None = None

    def on_it(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, work: Callable[[], Result]) -> Future:
        """Queue `work`; the future holds its result or its error."""
        future: Future = Future()
        with self._lock:
            self._waiting.put((work, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._thread.start()
        return future

    def call(self, work: Callable[[], Result]) -> Result:
        """`work()` run on the thread (at once when called from it); its error, if any, raised here."""
        return work() if self.on_it() else self.submit(work).result()

    def _serve(self) -> None:
        while True:
            try:
                work, future = self._waiting.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._waiting.empty():  # nothing arrived since: end; the next submit() starts a new thread
                        self._thread = None
                        return
                continue
            try:
                future.set_result(work())
            except BaseException as error:  # the caller gets the error; the thread serves on
                future.set_exception(error)


MODELS = ModelThread("pix2pix models")


def on_model_thread(method: Callable[Parameters, Result]) -> Callable[Parameters, Result]:
    """Run the decorated function on the process's model thread, whichever thread calls it."""

    @functools.wraps(method)
    def run(*args: Parameters.args, **kwargs: Parameters.kwargs) -> Result:
        return MODELS.call(functools.partial(method, *args, **kwargs))

    return run
