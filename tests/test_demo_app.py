"""Building and serving the studio writes nothing into the repository (Spaces may mount it read-only)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IGNORED = {".git", "__pycache__", ".pytest_cache", ".ruff_cache", "test-artifacts", "data", "runs"}


def repository_files() -> set[Path]:
    files = set()
    for folder, subfolders, names in os.walk(REPO):
        subfolders[:] = [name for name in subfolders if name not in IGNORED]
        files.update(Path(folder, name).relative_to(REPO) for name in names)
    return files


def test_building_and_using_the_app_writes_nothing_beside_it(checkpoints_dir: Path, examples_dir: Path):
    before = repository_files()
    script = (
        "import sys; from demo.app import build_app, launch; from demo.sketchpad import to_data_url; from PIL import Image\n"
        f"app = build_app({str(checkpoints_dir)!r}, {str(examples_dir)!r}, device='cpu')\n"
        "url = launch(app, host='127.0.0.1', prevent_thread_lock=True, quiet=True)\n"
        "from gradio_client import Client\n"
        "Client(url, verbose=False).predict(to_data_url(Image.new('RGB', (256, 256), 'white')), api_name='/translate_edges2things')\n"
        "app.close()\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=300, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert repository_files() - before == set()


def test_the_server_address_comes_from_gradio_variables_and_flags_win(monkeypatch):
    from demo.__main__ import network_address, parse_arguments

    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7123")
    assert (parse_arguments([]).host, parse_arguments([]).port) == ("0.0.0.0", 7123)
    flags = parse_arguments(["--host", "127.0.0.1", "--port", "8000"])
    assert (flags.host, flags.port) == ("127.0.0.1", 8000)
    monkeypatch.delenv("GRADIO_SERVER_NAME")
    monkeypatch.delenv("GRADIO_SERVER_PORT")
    assert (parse_arguments([]).host, parse_arguments([]).port) == ("127.0.0.1", 7860)  # loopback unless asked
    assert all(part.isdigit() for part in network_address().split("."))


def test_the_model_line_names_the_kinds_of_machine_once(tmp_path: Path):
    from conftest import save_fixture_model

    from demo.app import provenance
    from pix2pix.checkpoint import ModelInfo
    from pix2pix.translate import Translator

    training = {"train_pairs": 400, "totals": {"minutes": 200.8, "machines": ["AMD EPYC (AVX512), 2 cores, 2 torch threads",
                                                                              "CPU, 2 threads"]}}
    save_fixture_model(tmp_path / "m.safetensors", ModelInfo(task="facades", input_kind="edges", training=training), seed=1)
    line = provenance(Translator(tmp_path / "m.safetensors", "cpu"))
    assert line.startswith("Trained on 400 facades pairs for 200.8 min in all, on AMD EPYC (AVX512), 2 cores. Here: ")
    assert "ms per picture (cpu, " in line
