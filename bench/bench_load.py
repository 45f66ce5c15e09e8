"""Many visitors at once: N gradio_client users translating drawings for T seconds against one studio.

    python bench/bench_load.py [--users 50] [--seconds 60] [--checkpoints DIR] [--model NAME] [--url http://127.0.0.1:7860/]

Launches the studio on loopback (or uses --url, which must be loopback: this is a load test, not an
attack), then every user sends a drawing, waits for the picture, and sends the next, until time is up.
Prints requests, errors, throughput and p50/p95 latency as a markdown table naming the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from gradio_client import Client
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere: the repo root holds demo/
from bench.bench_browser import percentile  # noqa: E402
from demo.app import CHECKPOINTS_DIR, EXAMPLES_DIR, build_app, launch  # noqa: E402
from demo.sketchpad import to_data_url  # noqa: E402
from pix2pix.machine import machine_name  # noqa: E402
from pix2pix.translate import resolve_device  # noqa: E402

DRAWINGS = 8  # distinct drawings, so no two consecutive requests of a user are the same
ERROR_PAUSE_S = 0.2  # a user whose request failed waits a moment, as a person would, instead of spinning


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


class Tally:
    """Latencies and errors from all user threads."""

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


def user(url: str, api_name: str, drawings: list[str], deadline: float, tally: Tally, number: int) -> None:
    """One visitor: translate drawing after drawing until the deadline."""
    try:
        client = Client(url, verbose=False)
    except Exception as error:  # a refused connection is a result to count, not a crash
        tally.add(None, f"connect: {error}")
        return
    index = number
    while time.monotonic() < deadline:
        drawing = drawings[index % len(drawings)]
        index += 1
        started = time.perf_counter()
        try:
            client.predict(drawing, api_name=api_name)
        except Exception as error:  # every failed request is counted and the user carries on
            tally.add(None, f"{type(error).__name__}: {error}")
            time.sleep(ERROR_PAUSE_S)
            continue
        tally.add(time.perf_counter() - started)


def first_model(url: str) -> str:
    """The first model the studio serves: its Translate buttons are the /translate_<model> endpoints."""
    endpoints = Client(url, verbose=False).view_api(print_info=False, return_format="dict")["named_endpoints"]
    models = [name.removeprefix("/translate_") for name in endpoints if name.startswith("/translate_")]
    if not models:
        sys.exit(f"{url} serves no model")
    return models[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--checkpoints", default=str(CHECKPOINTS_DIR))
    parser.add_argument("--examples", default=str(EXAMPLES_DIR))
    parser.add_argument("--model", help="model to translate with (default: the first in --checkpoints)")
    parser.add_argument("--url", help="an already running studio on this machine (loopback only)")
    args = parser.parse_args(argv)
    if args.url and urlparse(args.url).hostname not in ("127.0.0.1", "localhost"):
        sys.exit("--url must be on this machine (127.0.0.1 or localhost)")

    app = None if args.url else build_app(args.checkpoints, args.examples)
    url = args.url or launch(app, host="127.0.0.1", prevent_thread_lock=True, quiet=True)
    tally = Tally()
    try:
        model = args.model or first_model(url)
        values = drawings()
        deadline = time.monotonic() + args.seconds
        threads = [threading.Thread(target=user, args=(url, f"/translate_{model}", values, deadline, tally, n), daemon=True)
                   for n in range(args.users)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()) + 120)  # bounded: a stuck request cannot hang the bench
        elapsed = time.monotonic() - started
    finally:
        if app is not None:
            app.close()

    latencies, errors = tally.latencies, tally.errors
    print(f"\n{args.users} users for {args.seconds:.0f} s, model {model}, server on {machine_name(resolve_device('auto'))}\n")
    print("| users | requests | errors | requests/s | p50 ms | p95 ms |")
    print("|---:|---:|---:|---:|---:|---:|")
    p50 = f"{statistics.median(latencies) * 1000:.0f}" if latencies else "-"
    p95 = f"{percentile(latencies, 0.95) * 1000:.0f}" if latencies else "-"
    print(f"| {args.users} | {len(latencies) + len(errors)} | {len(errors)} | {len(latencies) / elapsed:.1f} | {p50} | {p95} |")
    for message in sorted(set(errors))[:5]:
        print(f"error: {message}")


if __name__ == "__main__":
    main()
