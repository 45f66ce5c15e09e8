"""The launched studio answers a gradio_client: a drawing goes in, the picture comes back in the response;
a drawing it cannot use comes back as an error with the page's message."""

from __future__ import annotations

import pytest
from conftest import edges_drawing
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from demo.sketchpad import from_data_url, to_data_url

API = "/translate_edges2things"


def test_client_sends_a_drawing_and_gets_a_picture(studio_url: str):
    client = Client(studio_url, verbose=False)

    def picture(drawing: Image.Image) -> Image.Image:
        result = client.predict(to_data_url(drawing), api_name=API)  # the canvas's value: a PNG data URL
        assert result.startswith("data:image/jpeg;base64,")  # the picture itself, not a file to fetch
        return from_data_url(result)

    output = picture(edges_drawing())
    assert output.size == (256, 256)
    assert output != picture(Image.new("RGB", (256, 256), "white"))  # the picture depends on the drawing


@pytest.mark.parametrize(("value", "message"), [("hello", "not an image"), (42, "must be a PNG data URL")])
def test_a_rejected_drawing_is_an_error_for_api_callers(studio_url: str, value, message):
    with pytest.raises(AppError, match=message):
        Client(studio_url, verbose=False).predict(value, api_name=API)
