"""train.py end to end on a tiny dataset: it learns, resumes exactly, exports, runs under DDP."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import train
from pix2pix.checkpoint import critic_path, load_discriminator, load_generator, load_state
from tests.synthetic import write_aligned

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--image-size", "64", "--load-size", "72", "--crop-size", "64", "--num-downs", "6", "--ngf", "8", "--d-ndf", "8"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    write_aligned(root / "train", n=8)
    (root / "dataset.json").write_text(json.dumps({"task": "circles", "input_kind": "edges", "palette": None, "source": "synthetic"}))
    return root


def run(dataset: Path, runs: Path, name: str, *extra: str) -> list[dict]:
    train.main(["--data", str(dataset), "--name", name, "--runs", str(runs), "--log-every", "1", "--sample-every", "0", *TINY, *extra])
    return [json.loads(line) for line in (runs / name / "log.jsonl").read_text().splitlines()]


def test_a_few_dozen_steps_lower_the_l1_loss(dataset, tmp_path):
    log = run(dataset, tmp_path, "learn", "--max-steps", "40", "--batch-size", "2", "--lr", "1e-3")
    assert len(log) == 40
    first, last = [r["G_L1"] for r in log[:5]], [r["G_L1"] for r in log[-5:]]
    assert sum(last) / 5 < 0.7 * sum(first) / 5


def test_resume_continues_exactly_like_an_uninterrupted_run(dataset, tmp_path):
    straight = run(dataset, tmp_path, "straight", "--max-steps", "10", "--batch-size", "3")
    run(dataset, tmp_path, "halves", "--max-steps", "5", "--batch-size", "3")
    resumed = run(dataset, tmp_path, "halves", "--max-steps", "10", "--batch-size", "3", "--resume")
    losses = ["D", "G_gan", "G_L1"]
    assert [[r[k] for k in losses] for r in straight] == [[r[k] for k in losses] for r in resumed]
    assert [r["epoch"] for r in straight] == [r["epoch"] for r in resumed]  # crosses epoch boundaries (8 // 3 = 2 steps each)
    a, b = load_state(tmp_path / "straight" / "latest.safetensors"), load_state(tmp_path / "halves" / "latest.safetensors")
    for key in a["generator"]:
        assert torch.equal(a["generator"][key], b["generator"][key]), key
    assert a["step"] == b["step"] == 10


def test_export_ships_an_fp16_generator_and_critic_with_metadata(dataset, tmp_path):
    export = tmp_path / "ship" / "circles.safetensors"
    run(dataset, tmp_path, "ship", "--max-steps", "3", "--export", str(export), "--sample-every", "2")
    generator, info = load_generator(export)
    assert generator.config.ngf == 8 and generator.config.num_downs == 6
    assert info.task == "circles" and info.input_kind == "edges" and info.step == 3 and info.image_size == 64
    assert info.training["train_pairs"] == 8 and info.training["images_seen"] == 3
    assert load_discriminator(critic_path(export)).config.ndf == 8
    assert export.stat().st_size < 0.6 * 4 * sum(p.numel() for p in generator.parameters())  # half precision on disk
    assert (tmp_path / "ship" / "samples" / "step_0000002.png").is_file()


def test_a_second_run_with_the_same_name_is_refused(dataset, tmp_path):
    run(dataset, tmp_path, "once", "--max-steps", "1")
    with pytest.raises(SystemExit, match="already holds a run"):
        run(dataset, tmp_path, "once", "--max-steps", "1")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--batch-size", "0"], "batch-size"),
        (["--lr", "fast"], "lr must be a number"),
        (["--crop-size", "300", "--load-size", "286"], "cannot exceed"),
        (["--norm", "group"], "invalid choice"),
        (["--data", "/nonexistent"], "does not exist"),
        (["--batch-size", "9"], "cannot fill one batch"),
    ],
)
def test_bad_arguments_get_clear_errors(dataset, tmp_path, arguments, message, capsys):
    argv = ["--data", str(dataset), "--name", "bad", "--runs", str(tmp_path), *TINY, *arguments]
    with pytest.raises(SystemExit) as exit_info:
        train.main(argv)
    assert message in str(exit_info.value.code) + capsys.readouterr().err


def test_resume_without_a_run_is_a_clear_error(dataset, tmp_path):
    with pytest.raises(SystemExit, match="cannot resume"):
        run(dataset, tmp_path, "missing", "--resume")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_cpu_processes_keep_identical_weights(dataset, tmp_path):
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
        "--master-port", str(free_port()), str(ROOT / "train.py"), "--data", str(dataset), "--name", "ddp",
        "--runs", str(tmp_path), "--device", "cpu", "--max-steps", "4", "--batch-size", "2", "--sample-every", "0", *TINY,
    ]  # fmt: skip
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "all 2 replicas hold identical weights" in result.stdout
    assert load_state(tmp_path / "ddp" / "latest.safetensors")["step"] == 4
