"""The launched studio answers a gradio_client: a drawing goes in, a picture comes out."""

from __future__ import annotations

from pathlib import Path

from conftest import edges_drawing
from gradio_client import Client, handle_file
from PIL import Image


def test_client_sends_a_drawing_and_gets_a_picture(studio_url: str, tmp_path: Path):
    client = Client(studio_url, verbose=False, download_files=str(tmp_path / "downloads"))
    drawing, blank = tmp_path / "drawing.png", tmp_path / "blank.png"
    edges_drawing().save(drawing)
    Image.new("RGB", (256, 256), "white").save(blank)

    def picture(path: Path) -> Image.Image:
        canvas = {"background": handle_file(str(path)), "layers": [], "composite": handle_file(str(path))}
        result = client.predict(canvas, api_name="/translate_edges2things")
        with Image.open(result) as image:
            assert image.format == "PNG"
            return image.convert("RGB")

    output = picture(drawing)
    assert output.size == (256, 256)
    assert output != picture(blank)  # the picture depends on the drawing
