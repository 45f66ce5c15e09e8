"""Training recipes at equal CPU minutes: held-out quality after each budget, same machine, same run.

    python bench/bench_recipe.py --data data/facades --minutes 15 60 [--recipes paper project:15 ...] [--threads 1]

Each recipe is `train.py` with its flags, started from scratch in its own process on `--threads` threads, up to
`--parallel` recipes side by side; NAME:M stops that recipe after the budget M (to spend the CPU on the others). Budgets
count the process's CPU time (user + system, from /proc), not wall time, so recipes sharing the machine with
each other or with other work still get the same CPU minutes. At each budget the run is stopped with SIGTERM
(train.py saves and exports the generator it would ship); once every budget is trained, each snapshot is
scored on the test split with `python -m pix2pix.evaluate` (and the dataset's judge when it has one).
Prints a markdown table; `--table` also writes it to a file; `--evaluate-only` scores the snapshots again
(after training a judge, say); `--more` trains the recipes of an earlier run on to larger budgets (each resumes
from its saved state with the CPU minutes it has already spent), so a long comparison can span sessions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
CLOCK = "cpu_minutes.json"  # CPU minutes behind each snapshot, kept beside the runs
sys.path.insert(0, str(ROOT))  # run as a script from anywhere
from pix2pix.checkpoint import load_generator  # noqa: E402
from pix2pix.evaluate import evaluate  # noqa: E402
from pix2pix.machine import machine_name  # noqa: E402

# The paper's setup (ngf 64, batch 1, fp32, BatchNorm, ConvTranspose) and the recipe the project chose; every
# other arm changes one thing in the chosen recipe.
PROJECT = ["--ngf", "32", "--d-ndf", "32", "--batch-size", "4", "--amp", "bf16", "--ema-decay", "0.999",
           "--upsample", "resize"]
NO_JITTER = [*PROJECT, "--load-size", "256"]  # mirroring only: trains at the scale it is used at
SKETCH_HALF = ["--sketch-augment", "--sketch-share", "0.5"]  # edges datasets only: half of each batch redrawn as sketches
RECIPES: dict[str, list[str]] = {
    "paper": [],
    "project": PROJECT,
    "project-transpose": [*PROJECT, "--upsample", "transpose"],
    "project-no-ema": [*PROJECT, "--ema-decay", "0"],
    "project-progressive": [*PROJECT, "--low-res-size", "128"],  # 3/4 of each budget at 128, the rest at 256
    "project-ngf24": [*PROJECT, "--ngf", "24"],
    "project-ngf48": [*PROJECT, "--ngf", "48"],
    "project-instance": [*PROJECT, "--norm", "instance"],
    "project-fp32": [*PROJECT, "--amp", "off"],
    "project-batch1": [*PROJECT, "--batch-size", "1"],
    "project-batch8-lr4e-4": [*PROJECT, "--batch-size", "8", "--lr", "4e-4"],
    "project-compile": [*PROJECT, "--compile"],
    "project-sketch": [*PROJECT, "--sketch-augment"],  # edges datasets only: what sketch-proofing costs on test edges
    "project-sketch-half": [*PROJECT, *SKETCH_HALF],  # ... when half the batch stays clean
    "project-no-jitter": NO_JITTER,
    "project-no-jitter-l1x2": [*NO_JITTER, "--lambda-l1", "200"],  # ... with L1 weighted 200
    "project-no-jitter-no-flip": [*NO_JITTER, "--no-flip"],  # ... nor mirroring: the 3-D renders look lit from one side
    "project-no-jitter-sketch-half": [*NO_JITTER, *SKETCH_HALF],  # the shipped edges model's data handling
    "project-no-jitter-sketch-half-no-flip": [*NO_JITTER, *SKETCH_HALF, "--no-flip"],  # ... without mirroring
}
METRICS = ("l1", "ssim", "edge_f1", "checkerboard", "judge_accuracy", "judge_miou")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_to(budgets: dict[str, float], commands: dict[str, list[str]], logs: Path, threads: int, parallel: int,
           poll: float = 2.0) -> dict[str, float]:
    """Run the commands, at most `parallel` at a time, SIGTERM each when its CPU time reaches its budget; wait for
    all to save and exit. Budgets count CPU time, so how many share the machine changes only the wall time."""
    # Passive waits: an OpenMP thread that spins while the machine is shared burns CPU time that does no work
    # and would count against its recipe's budget.
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE"}
    waiting = list(commands)
    processes: dict[str, subprocess.Popen] = {}
    used = dict.fromkeys(commands, 0.0)
    stopped: set[str] = set()
    with contextlib.ExitStack() as files:
        while waiting or any(process.poll() is None for process in processes.values()):
            while waiting and sum(process.poll() is None for process in processes.values()) < parallel:
                name = waiting.pop(0)
                processes[name] = subprocess.Popen(commands[name], cwd=ROOT, env=environment, stderr=subprocess.STDOUT,
                                                   stdout=files.enter_context(open(logs / f"{name}.log", "a")))
            for name, process in processes.items():
                if process.poll() is None:
                    used[name] = cpu_seconds(process.pid)
                    if name not in stopped and used[name] >= budgets[name]:
                        process.send_signal(signal.SIGTERM)
                        stopped.add(name)
            time.sleep(poll)
    failed = [name for name, process in processes.items() if process.returncode != 0]
    if failed:  # the others' budgets are spent and saved: keep them
        print(f"warning: {', '.join(failed)} failed (see {logs}/NAME.log) and will be left out", file=sys.stderr)
    return {name: seconds for name, seconds in used.items() if name not in failed}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a prepared dataset (train/ and test/)")
    parser.add_argument("--recipes", nargs="+", default=["paper", "project"], type=recipe_and_limit,
                        help=f"NAME or NAME:MAX-MINUTES; names: {', '.join(RECIPES)}")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per recipe (default 1)")
    parser.add_argument("--parallel", type=int, default=6,
                        help="recipes training at once (default 6; each holds the decoded dataset in memory)")
    parser.add_argument("--minutes", type=float, nargs="+", default=[15, 60], help="CPU-minute budgets (ascending)")
    parser.add_argument("--direction", help="train.py --direction (default: the dataset's)")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "bench_recipe", help="where the runs go")
    parser.add_argument("--table", type=Path, help="also write the markdown table here")
    parser.add_argument("--evaluate-only", action="store_true", help="score the snapshots of an earlier run of this script")
    parser.add_argument("--more", action="store_true", help="train the recipes of an earlier run on to the larger budgets")
    arguments = parser.parse_args(argv)
    if sorted(arguments.minutes) != arguments.minutes or arguments.minutes[0] <= 0 or min(arguments.threads, arguments.parallel) < 1:
        parser.error("--minutes must be positive and ascending, --threads and --parallel at least 1")
    arguments.limits = dict(arguments.recipes)
    arguments.recipes = list(arguments.limits)
    if not arguments.evaluate_only:
        if arguments.runs.exists() and any(arguments.runs.iterdir()) and not arguments.more:
            parser.error(f"{arguments.runs} is not empty: every recipe starts from scratch (or --more, --evaluate-only)")
        train_all(arguments)
    rows = []
    clock = read_clock(arguments.runs)
    for budget in arguments.minutes:
        for name in recipes_at(arguments, budget):
            checkpoint = snapshot(arguments.runs, name, budget)
            if checkpoint.name not in clock:
                print(f"{name} has no snapshot at {budget:g} CPU-minutes (failed): left out", file=sys.stderr)
                continue
            cpu_minutes = clock[checkpoint.name]
            rows.append({"recipe": name, "budget": budget, "cpu_minutes": cpu_minutes,
                         "images_seen": load_generator(checkpoint)[1].training["images_seen"],
                         **evaluate(checkpoint, arguments.data, device="cpu")})
            print(json.dumps({k: v for k, v in rows[-1].items() if k in ("recipe", "cpu_minutes", *METRICS)}), flush=True)
    table = format_table(rows, arguments.data, arguments.threads)
    print(table)
    if arguments.table:
        arguments.table.write_text(table)


def recipe_and_limit(text: str) -> tuple[str, float]:
    name, _, limit = text.partition(":")
    if name not in RECIPES:
        raise argparse.ArgumentTypeError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}")
    try:
        return name, float(limit) if limit else float("inf")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: the limit after ':' must be a number of minutes") from None


def recipes_at(arguments: argparse.Namespace, budget: float) -> list[str]:
    """The recipes that train to `budget`."""
    return [name for name in arguments.recipes if budget <= arguments.limits[name]]


def snapshot(runs: Path, name: str, budget: float) -> Path:
    return runs / f"{name}-{budget:g}min.safetensors"


def train_all(arguments: argparse.Namespace) -> None:
    """Every recipe side by side to each budget in turn, exporting a snapshot at each."""
    arguments.runs.mkdir(parents=True, exist_ok=True)
    direction = ["--direction", arguments.direction] if arguments.direction else []
    done = spent_seconds(arguments.runs, arguments.recipes)
    for budget in arguments.minutes:
        commands = {}
        for name in recipes_at(arguments, budget):
            if done[name] >= 60 * budget:
                continue  # trained to this budget by an earlier run (--more)
            resume = ["--resume"] if done[name] else []
            commands[name] = [sys.executable, str(ROOT / "train.py"), "--data", str(arguments.data), "--name", name,
                              "--runs", str(arguments.runs), *direction, *RECIPES[name], *resume, "--sample-every", "0",
                              "--save-every", "500", "--export", str(snapshot(arguments.runs, name, budget))]
        # a resumed process starts its CPU clock at zero: give it what is left of the budget, which train.py also
        # knows (--max-cpu-minutes: progressive resolution schedules its switch by it)
        left = {name: 60 * budget - done[name] for name in commands}
        for name in commands:
            commands[name] += ["--max-cpu-minutes", f"{left[name] / 60:.3f}"]
        used = run_to(left, commands, arguments.runs, arguments.threads, arguments.parallel)
        for name in used:
            done[name] += used[name]
        record = read_clock(arguments.runs)
        record.update({snapshot(arguments.runs, name, budget).name: done[name] / 60 for name in used})
        (arguments.runs / CLOCK).write_text(json.dumps(record, indent=1))


def read_clock(runs: Path) -> dict[str, float]:
    """CPU minutes behind each snapshot in `runs` (empty before the first one)."""
    clock = runs / CLOCK
    return json.loads(clock.read_text()) if clock.exists() else {}


def spent_seconds(runs: Path, recipes: list[str]) -> dict[str, float]:
    """CPU seconds each recipe has already trained in `runs`: its largest snapshot's (0 for a fresh run)."""
    record = read_clock(runs)
    return {name: 60 * max((minutes for snapshot_name, minutes in record.items()
                            if snapshot_name.rpartition("-")[0] == name), default=0.0) for name in recipes}


def format_table(rows: list[dict], data: Path, threads: int) -> str:
    present = [key for key in METRICS if any(key in row for row in rows)]
    machine = machine_name(torch.device("cpu")).rsplit(", ", 1)[0]  # this process's own thread count is not the runs'
    lines = [f"Held-out test split of `{data}`, {machine}, {threads} torch thread(s) per recipe "
             f"(`python bench/bench_recipe.py`).", "",
             "| recipe | CPU minutes | images seen | " + " | ".join(present) + " |",
             "|---|---:|---:|" + "---:|" * len(present)]
    for row in rows:
        values = " | ".join(f"{row[key]:.3f}" if key in row else "—" for key in present)
        lines.append(f"| {row['recipe']} | {row['cpu_minutes']:.1f} | {row.get('images_seen', '—')} | {values} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
