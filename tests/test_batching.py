"""Concurrent requests share a batch: each caller gets its own result, errors reach every caller of the
batch, a lone call runs alone, and the thread ends when idle."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import edges_drawing

import pix2pix.model_thread as model_thread
from pix2pix.batching import SharedBatches
from pix2pix.model_thread import MODELS, ModelThread
from pix2pix.translate import Translator


class SlowDoubler:
    """Work that takes a while per batch and records the batches it ran."""

    def __init__(self, seconds: float = 0.05):
        self.batches: list[list[int]] = []
        self.seconds = seconds

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        time.sleep(self.seconds)
        return [2 * item for item in items]


def test_concurrent_calls_share_batches_and_each_gets_its_own_result():
    work = SlowDoubler()
    shared = SharedBatches(work, max_batch=4)
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(shared.run, range(10)))
    assert results == [2 * n for n in range(10)]
    assert sorted(item for batch in work.batches for item in batch) == list(range(10))  # each item once
    assert max(len(batch) for batch in work.batches) > 1  # callers that waited went together
    assert all(len(batch) <= 4 for batch in work.batches)


def test_a_lone_call_runs_alone():
    work = SlowDoubler(0.0)
    shared = SharedBatches(work, max_batch=8)
    assert [shared.run(n) for n in range(3)] == [0, 2, 4]
    assert work.batches == [[0], [1], [2]]


def test_an_error_reaches_every_caller_of_its_batch_and_the_next_batch_still_runs():
    def fails_on_three(items: list[int]) -> list[int]:
        time.sleep(0.05)
        if 3 in items:
            raise ValueError("three")
        return items

    shared = SharedBatches(fails_on_three, max_batch=2)
    with pytest.raises(ValueError, match="three"):
        shared.run(3)
    assert shared.run(4) == 4


def test_the_model_thread_ends_when_idle_and_starts_again(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(model_thread, "IDLE_SECONDS", 0.05)
    thread = ModelThread("idle test")
    shared = SharedBatches(SlowDoubler(0.0), max_batch=2, thread=thread)

    def alive() -> bool:
        return any(thread.name == "idle test" for thread in threading.enumerate())

    assert shared.run(1) == 2
    deadline = time.monotonic() + 5
    while alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive()
    assert shared.run(2) == 4


def test_work_given_from_the_model_thread_itself_runs_at_once():
    thread = ModelThread("reentrant test")
    shared = SharedBatches(SlowDoubler(0.0), max_batch=2, thread=thread)
    assert thread.call(lambda: (thread.on_it(), shared.run(5), thread.call(lambda: 7))) == (True, 10, 7)
    assert not thread.on_it()


def test_max_batch_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        SharedBatches(SlowDoubler(), max_batch=0)


def test_translations_at_once_equal_translations_one_by_one(checkpoints_dir):
    translator = Translator(checkpoints_dir / "edges2things.safetensors", "cpu")
    drawings = [edges_drawing().rotate(angle) for angle in (0, 90, 180, 270)]
    alone = [np.asarray(translator.translate(drawing), np.float32) for drawing in drawings]
    with ThreadPoolExecutor(4) as pool:
        together = [np.asarray(picture, np.float32) for picture in pool.map(translator.translate, drawings * 3)]
    for picture, expected in zip(together, alone * 3, strict=True):  # batched kernels may round differently
        assert np.abs(picture - expected).max() <= 2


def test_every_model_is_loaded_and_run_on_the_one_model_thread(checkpoints_dir, monkeypatch: pytest.MonkeyPatch):
    import pix2pix.translate as translate

    loaded_on, real_load = [], translate.load_generator

    def load_generator(*args, **kwargs):
        loaded_on.append(threading.current_thread().name)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(translate, "load_generator", load_generator)
    translators = [Translator(checkpoints_dir / f"{name}.safetensors", "cpu") for name in ("edges2things", "labels2things")]
    ran_on = set()
    for translator in translators:
        translator.generator.register_forward_hook(lambda *_: ran_on.add(threading.current_thread().name))
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda t: t.translate(edges_drawing()), translators * 2))
    translators[0].variations(edges_drawing(), [1, 2])
    assert loaded_on == [MODELS.name] * 2
    assert ran_on == {MODELS.name}
