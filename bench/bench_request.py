"""Where one stroke's request spends its time: each step of the server's path, and the whole round trip.

    python bench/bench_request.py [--model NAME] [--repeats 50]

Times, for one drawing as the canvas makes it (a PNG), each step the handler takes (decode the drawing,
prepare it, run the generator, encode the picture), the handler as a whole, and one request on loopback
as the page sends a stroke (the stroke route: PNG in, JPEG out); what the round trip adds to the handler
is the HTTP path's share. The references are timed in the same run: the same drawing over gradio's HTTP
API (the path strokes took before), and the picture as a PNG written to gradio's file cache
(gr.Image's postprocessing), which the browser used to fetch with a second request.
Prints medians as a markdown table naming the machine.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import gradio as gr
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere: the repo root holds demo/
from bench.bench_load import TIMEOUT_S, drawings, over_gradio_api, over_stroke_route  # noqa: E402
from demo.app import CHECKPOINTS_DIR, EXAMPLES_DIR, build_app, launch  # noqa: E402
from demo.catalog import load_catalog  # noqa: E402
from demo.handlers import ModelHandlers  # noqa: E402
from demo.picture import picture_jpeg  # noqa: E402
from demo.sketchpad import from_data_url  # noqa: E402
from pix2pix.images import open_image  # noqa: E402
from pix2pix.machine import machine_name  # noqa: E402
from pix2pix.translate import resolve_device  # noqa: E402


def median_ms(action: Callable[[], object], repeats: int) -> float:
    action()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoints", default=str(CHECKPOINTS_DIR))
    parser.add_argument("--examples", default=str(EXAMPLES_DIR))
    parser.add_argument("--model", help="model to time (default: the studio's first tab)")
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)

    catalog = load_catalog(args.checkpoints, "auto")
    model = args.model or ("facades" if "facades" in catalog.translators else sorted(catalog.translators)[0])
    if model not in catalog.translators:
        sys.exit(f"no model {model!r} in {args.checkpoints}: {', '.join(catalog.translators) or 'none'}")
    translator = catalog.translators[model]
    handlers = ModelHandlers(translator)
    drawing = drawings()[3]
    drawing_png = base64.b64decode(drawing.partition(",")[2])
    image = from_data_url(drawing)
    prepared = translator.prepare(image)
    picture = translator.translate_batch([prepared])[0]
    reference_output = gr.Image(type="pil", format="png")
    steps = {
        "decode the drawing (PNG)": lambda: open_image(drawing_png),
        "prepare it (size, palette)": lambda: translator.prepare(image),
        "the generator": lambda: translator.translate_batch([prepared]),
        "encode the picture (JPEG)": lambda: picture_jpeg(picture),
        "the stroke route's handler (PNG in, JPEG out)": lambda: handlers.stroke_picture(drawing_png),
        "the Translate button's handler (data URLs in and out)": lambda: handlers.translate(drawing),
        "reference: the picture as a PNG in gradio's file cache": lambda: reference_output.postprocess(picture),
    }
    rows = [(name, median_ms(action, args.repeats)) for name, action in steps.items()]

    app = build_app(args.checkpoints, args.examples)
    url = launch(app, host="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        with httpx.Client(base_url=url, timeout=TIMEOUT_S) as client:
            stroke = median_ms(lambda: over_stroke_route(client, model, drawing), args.repeats)
            button = median_ms(lambda: over_gradio_api(client, model, drawing), args.repeats)
    finally:
        app.close()
    timings = dict(rows)
    rows += [("a stroke over HTTP on loopback: the stroke route", stroke),
             ("... of which HTTP (round trip minus handler)", stroke - timings["the stroke route's handler (PNG in, JPEG out)"]),
             ("reference: the same over gradio's API (the path strokes took before)", button),
             ("... of which gradio (round trip minus handler)", button - timings["the Translate button's handler (data URLs in and out)"])]
    print(f"\nOne request, model {model} ({translator.runtime_name}), "
          f"median of {args.repeats}, on {machine_name(resolve_device('auto'))}\n")
    print("| step | ms |")
    print("|---|---:|")
    for name, milliseconds in rows:
        print(f"| {name} | {milliseconds:.1f} |")


if __name__ == "__main__":
    main()
