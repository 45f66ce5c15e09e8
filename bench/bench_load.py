"""A classroom on one server: N students drawing at human pace against one studio.

    python bench/bench_load.py [--users 30 50] [--seconds 60] [--interval 1 2] [--model NAME] [--paths stroke gradio]
                               [--url http://127.0.0.1:7860/]

Launches the studio on loopback (or uses --url, which must be loopback: this is a load test, not an
attack). Each student is a session of its own that sends its latest drawing every 1-2 s (uniformly at
random; at once when the previous picture took longer), as a person pausing between strokes does. The
drawing goes the way the page sends a stroke, over the stroke route (POST /studio/translate/NAME, PNG in,
JPEG out: demo/strokes.py), and, for reference in the same run, over gradio's HTTP API (POST
/gradio_api/run/translate_NAME, the path strokes took before). Prints requests, errors and p50/p95 latency
per path and class size as a markdown table naming the machine, then the saturation throughput: requests
per second with `--saturation-users` clients sending back to back.
"""

from __future__ import annotations

import argparse
import base64
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import httpx
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere: the repo root holds demo/
from bench.bench_browser import percentile  # noqa: E402
from demo.app import CHECKPOINTS_DIR, EXAMPLES_DIR, build_app, launch  # noqa: E402
from demo.sketchpad import from_data_url, to_data_url  # noqa: E402
from demo.strokes import translate_url  # noqa: E402
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
    """The studio answered with an error instead of a picture."""


def over_stroke_route(client: httpx.Client, model: str, drawing: str) -> None:
    """One translation the way the page sends a stroke: the drawing's PNG to the stroke route, a JPEG back."""
    response = client.post(translate_url(model), content=base64.b64decode(drawing.partition(",")[2]))
    if response.status_code != 200 or response.headers.get("content-type") != "image/jpeg":
        raise StudioError(f"{response.status_code}: {response.text[:200]}")


def over_gradio_api(client: httpx.Client, model: str, drawing: str) -> None:
    """One translation over gradio's HTTP API (the Translate button's endpoint, one POST, the picture in the answer)."""
    response = client.post(f"gradio_api/run/translate_{model}", json={"data": [drawing]})
    answer = response.json()
    if response.status_code != 200 or "data" not in answer:
        raise StudioError(str(answer.get("error", answer)))
    from_data_url(answer["data"][0])


PATHS = {"stroke": over_stroke_route, "gradio": over_gradio_api}


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


def student(url: str, send: Callable[[httpx.Client, str, str], None], model: str, values: list[str], deadline: float,
            interval: tuple[float, float], tally: Tally, number: int) -> None:
    """One student: every `interval` seconds (or at once, if the last picture took longer) the latest drawing."""
    pace = random.Random(number)
    time.sleep(pace.uniform(0, interval[1]))  # students do not all start on the same beat
    with httpx.Client(base_url=url, timeout=TIMEOUT_S) as client:
        index = number
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                send(client, model, values[index % len(values)])
                tally.add(time.perf_counter() - started)
            except (httpx.HTTPError, StudioError, ValueError) as error:  # every failed request is counted
                tally.add(None, f"{type(error).__name__}: {error}")
            index += 1
            time.sleep(max(0.0, pace.uniform(*interval) - (time.perf_counter() - started)))


def run_class(url: str, path: str, model: str, users: int, seconds: float,
              interval: tuple[float, float]) -> tuple[Tally, float]:
    tally, values = Tally(), drawings()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=student, args=(url, PATHS[path], model, values, deadline, interval, tally, n),
                                daemon=True) for n in range(users)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + 2 * TIMEOUT_S)  # bounded: nothing hangs the bench
    return tally, time.monotonic() - started


def row(path: str, users: int | str, tally: Tally, elapsed: float) -> str:
    latencies = tally.latencies
    p50 = f"{statistics.median(latencies) * 1000:.0f}" if latencies else "-"
    p95 = f"{percentile(latencies, 0.95) * 1000:.0f}" if latencies else "-"
    requests = len(latencies) + len(tally.errors)
    return f"| {path} | {users} | {requests} | {len(tally.errors)} | {len(latencies) / elapsed:.1f} | {p50} | {p95} |"


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
    parser.add_argument("--paths", nargs="+", choices=list(PATHS), default=list(PATHS),
                        help="how drawings are sent: stroke (the page's stroke route), gradio (gradio's API); default both")
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
        rows = []
        for path in args.paths:
            with httpx.Client(base_url=url, timeout=TIMEOUT_S) as client:
                PATHS[path](client, model, drawings()[0])  # warm-up
            rows += [row(path, users, *run_class(url, path, model, users, args.seconds, tuple(args.interval)))
                     for users in args.users]
            if args.saturation_users:
                rows.append(row(path, f"{args.saturation_users}, back to back",
                                *run_class(url, path, model, args.saturation_users, min(args.seconds, 30.0), (0.0, 0.0))))
    finally:
        if app is not None:
            app.close()
    print(f"\nStudents drawing every {args.interval[0]:g}-{args.interval[1]:g} s for {args.seconds:.0f} s, model {model}, "
          f"server on {machine_name(resolve_device('auto'))}\n")
    print("| path | students | requests | errors | requests/s | p50 ms | p95 ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
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
