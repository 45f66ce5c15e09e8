"""The launched studio answers a gradio_client: a drawing goes in, a picture comes out."""

from __future__ import annotations

from pathlib import Path

from conftest import edges_drawing
from gradio_client import Client
from PIL import Image

from demo.sketchpad import to_data_url


def test_client_sends_a_drawing_and_gets_a_picture(studio_url: str, tmp_path: Path):
    client = Client(studio_url, verbose=False, download_files=str(tmp_path / "downloads"))

    def picture(drawing: Image.Image) -> Image.Image:
        result = client.predict(to_data_url(drawing), api_name="/translate_edges2things")  # the canvas's value: a PNG data URL
        with Image.open(result) as image:
            assert image.format == "PNG"
            return image.convert("RGB")

    output = picture(edges_drawing())
    assert output.size == (256, 256)
    assert output != picture(Image.new("RGB", (256, 256), "white"))  # the picture depends on the drawing
