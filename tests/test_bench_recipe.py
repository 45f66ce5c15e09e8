"""bench_recipe's runner: CPU budgets, at most --parallel recipes at once, a failed recipe left out."""

import sys
from itertools import pairwise
from pathlib import Path

from bench.bench_recipe import RECIPES, run_to
from train import parse_arguments

# Spins until SIGTERM, logging when it started and when it was told to stop (what train.py does: save, exit 0).
SPINNER = """
import signal, sys, time
log = open(sys.argv[1], "a")
log.write(f"start {time.monotonic()}\\n"); log.flush()
def stop(*_):
    log.write(f"stop {time.monotonic()}\\n"); log.close(); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    pass
"""


def spinner(log: Path) -> list[str]:
    return [sys.executable, "-c", SPINNER, str(log)]


def intervals(log: Path) -> tuple[float, float]:
    times = dict(line.split() for line in log.read_text().splitlines())
    return float(times["start"]), float(times["stop"])


def test_run_to_spends_each_budget_and_runs_at_most_parallel_at_once(tmp_path: Path) -> None:
    names = ["a", "b", "c"]
    commands = {name: spinner(tmp_path / f"{name}.times") for name in names}
    used = run_to(dict.fromkeys(names, 0.3), commands, tmp_path, threads=1, parallel=1, poll=0.02)
    assert set(used) == set(names)
    assert all(0.3 <= seconds < 2.0 for seconds in used.values())  # stopped once the CPU budget was reached
    spans = sorted(intervals(tmp_path / f"{name}.times") for name in names)
    assert all(earlier[1] <= later[0] for earlier, later in pairwise(spans))  # one at a time


def test_run_to_runs_side_by_side_up_to_parallel(tmp_path: Path) -> None:
    commands = {name: spinner(tmp_path / f"{name}.times") for name in ("a", "b")}
    run_to({"a": 0.3, "b": 0.3}, commands, tmp_path, threads=1, parallel=2, poll=0.02)
    (a_start, a_stop), (b_start, b_stop) = intervals(tmp_path / "a.times"), intervals(tmp_path / "b.times")
    assert a_start < b_stop and b_start < a_stop  # overlapping


def test_a_failed_recipe_is_left_out_and_the_others_kept(tmp_path: Path, capsys) -> None:
    commands = {"works": spinner(tmp_path / "works.times"), "fails": [sys.executable, "-c", "raise SystemExit(3)"]}
    used = run_to({"works": 0.3, "fails": 0.3}, commands, tmp_path, threads=1, parallel=2, poll=0.02)
    assert list(used) == ["works"]
    assert "fails failed" in capsys.readouterr().err


def test_every_recipe_is_flags_that_train_py_accepts() -> None:
    for name, flags in RECIPES.items():
        arguments = parse_arguments(["--data", "data", "--name", name, *flags])
        assert arguments.name == name
    for name, mirrored in [("project-no-jitter", True), ("project-no-jitter-no-flip", False),
                           ("project-no-jitter-sketch-half", True), ("project-no-jitter-sketch-half-no-flip", False)]:
        assert parse_arguments(["--data", "data", "--name", "x", *RECIPES[name]]).flip is mirrored
