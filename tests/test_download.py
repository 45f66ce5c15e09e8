"""The download command against a local HTTP server that serves small pix2pix-style archives."""

from __future__ import annotations

import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pix2pix.data.__main__ import main
from pix2pix.data.download import DownloadError, download_dataset
from pix2pix.data.palettes import CMP_FACADES


def archive_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def pair_png(seed: int) -> bytes:
    """A 64x32 noise image: incompressible, so the archive is long enough to cut in half."""
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (32, 64, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


FACADES = {"facades/train/1.png": pair_png(1), "facades/train/2.png": pair_png(2), "facades/val/3.png": pair_png(3),
           "facades/README.txt": b"not an image: left out"}


class Server:
    """Serves `files` by path; honours Range; `cut` sends only the first half of a file, then hangs up."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut = False
        self.ranges: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                server.ranges.append(self.headers.get("Range"))
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                self.wfile.write(data[start:len(data) // 2] if server.cut else data[start:])

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/datasets"
        threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@pytest.fixture
def server() -> Iterator[Server]:
    served = Server()
    yield served
    served.http.shutdown()
    served.http.server_close()


def test_a_good_archive_becomes_the_aligned_layout(server: Server, tmp_path: Path) -> None:
    server.files["/datasets/facades.tar.gz"] = archive_bytes(FACADES)
    out = tmp_path / "facades"
    assert main(["download", "facades", "--out", str(out), "--base-url", server.url]) == 0
    assert sorted(p.name for p in (out / "train").iterdir()) == ["1.png", "2.png"]
    assert [p.name for p in (out / "test").iterdir()] == ["3.png"]  # val stands in for the missing test split
    assert (out / "test" / "3.png").read_bytes() == FACADES["facades/val/3.png"]
    description = json.loads((out / "dataset.json").read_text())
    assert description == {**description, "task": "facades", "input_kind": "labels", "direction": "BtoA",
                           "palette": CMP_FACADES.to_dict(), "n_train": 2, "n_test": 1}
    assert sorted(p.name for p in out.iterdir()) == ["dataset.json", "test", "train"]


def test_the_base_url_can_come_from_the_environment(server: Server, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    server.files["/datasets/edges2shoes.tar.gz"] = archive_bytes(
        {"edges2shoes/train/a.jpg": pair_png(4), "edges2shoes/val/b.jpg": pair_png(5)})
    monkeypatch.setenv("PIX2PIX_DATASETS_URL", server.url)
    assert download_dataset("edges2shoes", tmp_path / "shoes", progress=False)["input_kind"] == "edges"


def test_an_interrupted_download_resumes_from_the_part_file(server: Server, tmp_path: Path) -> None:
    data = archive_bytes(FACADES)
    server.files["/datasets/facades.tar.gz"] = data
    server.cut = True
    out = tmp_path / "facades"
    with pytest.raises(DownloadError, match="truncated.*run again to resume"):
        download_dataset("facades", out, server.url, progress=False)
    assert (out / "facades.tar.gz.part").read_bytes() == data[: len(data) // 2]
    server.cut = False
    assert download_dataset("facades", out, server.url, progress=False)["n_train"] == 2
    assert server.ranges == [None, f"bytes={len(data) // 2}-"]
    assert not (out / "facades.tar.gz.part").exists()


def test_a_truncated_archive_is_a_clear_error(server: Server, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = archive_bytes(FACADES)
    server.files["/datasets/facades.tar.gz"] = data[: len(data) // 2]  # complete as served, broken as a tar.gz
    assert main(["download", "facades", "--out", str(tmp_path / "f"), "--base-url", server.url]) == 1
    assert "truncated or corrupt" in capsys.readouterr().err
    assert not (tmp_path / "f" / "facades.tar.gz").exists()  # the next run downloads it again


def test_missing_archive_and_unknown_name_are_clear_errors(server: Server, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    assert main(["download", "maps", "--out", str(tmp_path / "maps"), "--base-url", server.url]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert main(["download", "kittens", "--out", str(tmp_path / "k"), "--base-url", server.url]) == 1
    assert "unknown dataset 'kittens'; choose one of facades" in capsys.readouterr().err


@pytest.mark.parametrize("member", ["../evil.png", "/etc/evil.png", "facades/../../evil.png", "other/train/1.png"])
def test_members_outside_the_dataset_folder_are_refused(server: Server, tmp_path: Path, member: str) -> None:
    server.files["/datasets/facades.tar.gz"] = archive_bytes({**FACADES, member: pair_png(6)})
    with pytest.raises(DownloadError, match="outside"):
        download_dataset("facades", tmp_path / "facades", server.url, progress=False)
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "facades" / "train").exists()
