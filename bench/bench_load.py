"""A classroom on one server: N students drawing at human pace against one studio.

    python bench/bench_load.py [--users 30 50] [--seconds 60] [--interval 1 2] [--model NAME] [--url http://127.0.0.1:7860/]

Launches the studio on loopback (or uses --url, which must be loopback: this is a load test, not an
attack). Each student is a session of its own that sends its latest drawing every 1-2 s (uniformly at
random; at once when the previous picture took longer), as a person pausing between strokes does, over
gradio's HTTP API (POST /gradio_api/run/translate_NAME, the picture in the answer, as the page's strokes go). Prints requests,
errors and p50/p95 latency per class size as a markdown table naming the machine, then the saturation
throughput: requests per second with `--saturation-users` clients sending back to back.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere: the repo root holds demo/
from bench.bench_browser import percentile  # noqa: E402
from demo.app import CHECKPOINTS_DIR, EXAMPLES_DIR, build_app, launch  # noqa: E402
from demo.sketchpad import to_data_url  # noqa: E402
from pix2pix.machine import machine_name  # noqa: E402
from pix2pix.translate import resolve_device  # noqa: E402

DRAWINGS = 8  # distinct drawings, so no two consecutive requests of a student are the same
TIMEOUT_S = 60.0


def drawings() -> list[str]:
    """Circles of growing size, as the canvas sends them (PNG data URLs): edges for an edges model and,
    via palette snapping, plausible labels too."""
    values = []
    for index in range(DRAWINGS):
        image = Image.new("RGB", (256, 256), "white")
        margin = 20 + 10 * index
        ImageDraw.Draw(image).ellipse((margin, margin, 256 - margin, 256 - margin), outline="black", width=3)
        values.append(to_data_url(image))
    return values


class StudioError(RuntimeError):
    """The studio answered with an error event instead of a picture."""


def translate(client: httpx.Client, api_name: str, drawing: str) -> str:
    """One translation over gradio's HTTP API, the way the page sends a stroke (one POST, the picture in the
    answer); returns the picture's data URL."""
    response = client.post(f"gradio_api/run/{api_name}", json={"data": [drawing]})
    answer = response.json()
    if response.status_code != 200 or "data" not in answer:
        raise StudioError(str(answer.get("error", answer)))
    return answer["data"][0]


class Tally:
    """Latencies and errors from all student threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def add(self, latency: float | None, error: str | None = None) -> None:
        with self.lock:
            if error is None:
                self.latencies.append(latency)
            else:
                self.errors.append(error)


def student(url: str, api_name: str, values: list[str], deadline: float, interval: tuple[float, float], tally: Tally,
            number: int) -> None:
    """One student: every `interval` seconds (or at once, if the last picture took longer) the latest drawing."""
    pace = random.Random(number)
    time.sleep(pace.uniform(0, interval[1]))  # students do not all start on the same beat
    with httpx.Client(base_url=url, timeout=TIMEOUT_S) as client:
        index = number
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                translate(client, api_name, values[index % len(values)])
                tally.add(time.perf_counter() - started)
            except (httpx.HTTPError, StudioError, ValueError) as error:  # every failed request is counted
                tally.add(None, f"{type(error).__name__}: {error}")
            index += 1
            time.sleep(max(0.0, pace.uniform(*interval) - (time.perf_counter() - started)))


def run_class(url: str, api_name: str, users: int, seconds: float, interval: tuple[float, float]) -> tuple[Tally, float]:
    tally, values = Tally(), drawings()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=student, args=(url, api_name, values, deadline, interval, tally, n), daemon=True)
               for n in range(users)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + 2 * TIMEOUT_S)  # bounded: nothing hangs the bench
    return tally, time.monotonic() - started


def row(users: int | str, tally: Tally, elapsed: float) -> str:
    latencies = tally.latencies
    p50 = f"{statistics.median(latencies) * 1000:.0f}" if latencies else "-"
    p95 = f"{percentile(latencies, 0.95) * 1000:.0f}" if latencies else "-"
    requests = len(latencies) + len(tally.errors)
    return f"| {users} | {requests} | {len(tally.errors)} | {len(latencies) / elapsed:.1f} | {p50} | {p95} |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[30, 50], help="class sizes to try, in turn")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each class draws")
    parser.add_argument("--interval", type=float, nargs=2, default=[1.0, 2.0], metavar=("MIN", "MAX"),
                        help="seconds between a student's drawings (default 1 2)")
    parser.add_argument("--saturation-users", type=int, default=8, help="back-to-back clients for the throughput figure (0: skip)")
    parser.add_argument("--checkpoints", default=str(CHECKPOINTS_DIR))
    parser.add_argument("--examples", default=str(EXAMPLES_DIR))
    parser.add_argument("--model", help="model to translate with (default: the studio's first tab)")
    parser.add_argument("--url", help="an already running studio on this machine (loopback only)")
    args = parser.parse_args(argv)
    if args.url and urlparse(args.url).hostname not in ("127.0.0.1", "localhost"):
        parser.error("--url must be on this machine (127.0.0.1 or localhost)")
    if min(args.users) < 1 or args.seconds <= 0 or not 0 <= args.interval[0] <= args.interval[1]:
        parser.error("--users must be at least 1, --seconds positive, --interval MIN <= MAX")

    app = None if args.url else build_app(args.checkpoints, args.examples)
    url = args.url or launch(app, host="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        model = args.model or first_model(url)
        api_name = f"translate_{model}"
        with httpx.Client(base_url=url, timeout=TIMEOUT_S) as client:
            translate(client, api_name, drawings()[0])  # warm-up
        rows = [row(users, *run_class(url, api_name, users, args.seconds, tuple(args.interval))) for users in args.users]
        if args.saturation_users:
            rows.append(row(f"{args.saturation_users}, back to back",
                            *run_class(url, api_name, args.saturation_users, min(args.seconds, 30.0), (0.0, 0.0))))
    finally:
        if app is not None:
            app.close()
    print(f"\nStudents drawing every {args.interval[0]:g}-{args.interval[1]:g} s for {args.seconds:.0f} s, model {model}, "
          f"server on {machine_name(resolve_device('auto'))}\n")
    print("| students | requests | errors | requests/s | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


def first_model(url: str) -> str:
    """The first model the studio serves: its Translate buttons are the /translate_<model> endpoints."""
    info = httpx.get(url.rstrip("/") + "/gradio_api/info", timeout=TIMEOUT_S).json()
    models = [name.removeprefix("/translate_") for name in info["named_endpoints"] if name.startswith("/translate_")]
    if not models:
        sys.exit(f"{url} serves no model")
    return models[0]


if __name__ == "__main__":
    main()
