"""The pix2pix studio page: pick a model, draw on the left, watch the generator paint on the right, stroke by stroke.

`python -m demo` launches it; on Hugging Face Spaces this file is the app_file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script (Spaces: `python demo/app.py`): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gradio as gr  # noqa: E402 (after the path fix)
import torch  # noqa: E402

from demo.catalog import Catalog, example_drawings, load_catalog  # noqa: E402
from demo.handlers import MAX_VARIATIONS, ModelHandlers  # noqa: E402
from demo.picture import picture_view  # noqa: E402
from demo.sketchpad import sketchpad  # noqa: E402
from demo.strokes import stroke_routes, translate_url  # noqa: E402
from pix2pix.canvas import LIVE_FRAME_SECONDS  # noqa: E402
from pix2pix.translate import Translator, resolve_device  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CHECKPOINTS_DIR = REPO / "checkpoints"
EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
DISPLAY_SIZE = 448  # the 256-pixel canvas and output are shown scaled up, pixels kept crisp
FIRST_TABS = ("facades",)  # the paper's headline task leads; the other models follow by name

THEME = gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])  # no web fonts: offline
CSS = """
.pixelated img, .pixelated canvas { image-rendering: pixelated; }
.scaled img { width: 100%; height: 100%; object-fit: contain; }  /* 256 px shown larger */
.critic-ramp { height: 10px; border-radius: 5px; background: linear-gradient(90deg, #dc2828, #dcc828, #00c828); }
"""


def build_app(checkpoints_dir: str | Path = CHECKPOINTS_DIR, examples_dir: str | Path = EXAMPLES_DIR, device: str = "auto") -> gr.Blocks:
    """The whole page: one tab per model found in `checkpoints_dir`, each model loaded once here. The page's
    stroke route (demo/strokes.py) rides along as `app.stroke_routes`, which `launch` serves beside gradio's."""
    catalog = load_catalog(checkpoints_dir, device)
    models: dict[str, ModelHandlers] = {}
    with gr.Blocks(title="pix2pix studio", analytics_enabled=False) as app:
        gr.Markdown("# pix2pix studio\nDraw on the left; a pix2pix U-Net paints the picture on the right after every stroke.")
        notice = catalog_notice(catalog, Path(checkpoints_dir))
        if notice:
            gr.Markdown(notice, elem_id="catalog-notice")
        with gr.Tabs():
            for name, translator in sorted(catalog.translators.items(), key=lambda item: item[0] not in FIRST_TABS):
                with gr.Tab(name, id=name):
                    models[name] = ModelHandlers(translator, example_drawings(Path(examples_dir) / name))
                    model_tab(models[name])
    app.stroke_routes = stroke_routes(models)
    return app.queue(default_concurrency_limit=concurrency_limit(resolve_device(device)))


def model_tab(handlers: ModelHandlers) -> None:
    """Canvas | output, then examples, photo upload, variations and the critic's view, for one model."""
    translator = handlers.translator
    brushes = translator.canvas.tool == "brushes"
    model = {"concurrency_id": "model"}  # every event runs a model: they share the device's queue limit
    gr.Markdown(f"{instructions(translator)}  \n*{provenance(translator)}*", elem_classes=["model-line"])
    with gr.Row(equal_height=False):
        with gr.Column(min_width=300):
            canvas = drawing_canvas(handlers)
            if brushes:
                classes = [name for name, _ in translator.canvas.inks]
                with gr.Row():
                    fill_class = gr.Dropdown(classes, value=classes[0], label="Fill the unpainted background with", scale=3)
                    fill = gr.Button("Fill background", scale=1)
            photo = gr.UploadButton("Start from a photo", file_types=["image"], type="filepath")
        with gr.Column(min_width=300):
            output = picture_view(handlers.translate(None), label="Generated", show_label=True, container=True,
                                  elem_id=picture_id(translator.name), elem_classes=["output"])
            translate = gr.Button("Translate", variant="primary")
    gallery = gr.Gallery(
        handlers.examples, label="Start from a held-out example (click one)", columns=8, height=150, object_fit="contain",
        fit_columns=False, allow_preview=False, visible=bool(handlers.examples), elem_classes=["examples"],
    )
    with gr.Accordion("Variations: the same drawing with dropout on", open=False):
        with gr.Row():
            count = gr.Slider(1, MAX_VARIATIONS, value=4, step=1, label="How many")
            seed = gr.Number(0, precision=0, label="First seed")
            vary = gr.Button("Make variations")
        variations = gr.Gallery(label="Variations", columns=4, height=240, format="png", elem_classes=["pixelated"])
    with gr.Accordion("What the critic sees", open=False):
        if translator.discriminator is None:
            gr.Markdown(f"{translator.critic_problem}: this view needs the PatchGAN discriminator.")
        else:
            gr.Markdown(
                "The PatchGAN discriminator judges each ~70x70 patch of the (drawing, picture) pair. "
                "**Green = looks real to the critic**, yellow = unsure, red = looks generated."
            )
            gr.HTML('<div class="critic-ramp"></div>')
            with gr.Row():
                judge = gr.Button("Show what the critic sees")
            critic = gr.Image(label="Critic's verdict per patch", type="pil", format="png", interactive=False,
                              height=DISPLAY_SIZE, elem_classes=["scaled", "pixelated"])
            judge.click(handlers.critic_view, canvas, critic, **model)

    # Strokes go over the stroke route, not these events (the canvas's script calls it); the button skips
    # gradio's queue: one POST, the picture in its answer. Concurrent translations share a batch (the Translator).
    translate.click(handlers.translate, canvas, output, api_name=f"translate_{translator.name}", queue=False, **model)
    photo.upload(handlers.load_photo, photo, [canvas, output], **model)
    gallery.select(handlers.load_example, None, [canvas, output], **model)
    vary.click(handlers.variations, [canvas, count, seed], variations, **model)
    if brushes:
        fill.click(handlers.fill_background, [canvas, fill_class], [canvas, output], **model)


def drawing_canvas(handlers: ModelHandlers) -> gr.HTML:
    """The model's Canvas on the page: a pencil on paper, class brushes on the background class, or a photo."""
    translator = handlers.translator
    canvas = translator.canvas
    inks = canvas.inks
    return sketchpad(
        handlers.blank_canvas(), tool=canvas.tool, size=translator.size, background=hex_color(canvas.paper),
        colors=[hex_color(color) for _, color in inks], names=[name for name, _ in inks], brush_size=canvas.line_width,
        widest=canvas.widest, live=translator.frame_seconds < LIVE_FRAME_SECONDS, translate_url=translate_url(translator.name),
        picture_id=picture_id(translator.name),
        label="Your drawing" if canvas.tool != "photo" else "Your photo", show_label=True, container=True, elem_classes=["canvas"],
    )


def picture_id(name: str) -> str:
    """The elem_id of model `name`'s picture view, where the canvas's script shows each stroke's picture."""
    return f"picture-{name}"


def hex_color(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


INSTRUCTIONS = {
    "pencil": "Draw outlines with the pencil; the picture follows every stroke. Undo with the button or Ctrl+Z.",
    "brushes": "Paint regions with the class colours below the canvas (keys 1-9 pick a class): brush, drag a box, or "
               "bucket-fill a region; unpainted canvas is background. Undo with the button or Ctrl+Z.",
    "photo": "Upload a photo or pick an example, then press Translate.",
}


def instructions(translator: Translator) -> str:
    return INSTRUCTIONS[translator.canvas.tool]


def provenance(translator: Translator) -> str:
    """One line on what the model learnt from and for how long, from its own metadata."""
    training = translator.info.training
    if not training:
        return f"No training record in this checkpoint. Here: {1000 * translator.frame_seconds:.0f} ms per picture."
    totals = training.get("totals") or {"minutes": training.get("minutes"), "machines": [training.get("device", "")]}
    machines = " and ".join(machine_kinds(totals.get("machines") or [])) or "an unrecorded machine"
    return (f"Trained on {training.get('train_pairs', '?')} {translator.info.task} pairs "
            f"for {totals.get('minutes', '?')} min in all, on {machines}. "
            f"Here: {1000 * translator.frame_seconds:.0f} ms per picture ({translator.runtime_name})."
            + (f" Not used: {translator.onnx_problem}." if translator.onnx_problem else ""))


def machine_kinds(machines: list[str]) -> list[str]:
    """The kinds of machine a model trained on, for a person: thread counts (a run's setting, not the machine's)
    left out, and older records that named only "CPU" dropped beside the named ones."""
    kinds = list(dict.fromkeys(re.sub(r", \d+ (torch )?threads$", "", machine) for machine in machines))
    return [kind for kind in kinds if kind != "CPU"] or kinds


def catalog_notice(catalog: Catalog, checkpoints_dir: Path) -> str:
    """What the page says about models that are missing or failed to load (never a stack trace)."""
    lines = [f"**{name} is unavailable.** {message}" for name, message in catalog.failures.items()]
    if not catalog.translators:
        lines.append(f"No usable checkpoints in `{checkpoints_dir}`. Train one with `python train.py`, or pass `--checkpoints DIR`.")
    return "\n\n".join(lines)


def concurrency_limit(device: torch.device) -> int:
    """Translations at once: a GPU overlaps a few small batches; on a CPU one already uses every core."""
    return 4 if device.type == "cuda" else 1


def launch(app: gr.Blocks, host: str | None = None, port: int | None = None, share: bool = False, **options) -> str:
    """Serve `app` with the studio's styling and return its local URL; host/port None -> gradio's defaults and
    GRADIO_SERVER_* variables (which Spaces sets). `options` go to Blocks.launch, e.g. prevent_thread_lock."""
    _, local_url, _ = app.launch(server_name=host, server_port=port, share=share, theme=THEME, css=CSS,
                                 app_kwargs={"routes": app.stroke_routes}, **options)
    return local_url


if __name__ == "__main__":
    launch(build_app())
