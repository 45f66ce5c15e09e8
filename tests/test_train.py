"""train.py end to end on a tiny dataset: it learns, resumes exactly, exports, runs under DDP."""

import json
import os
import signal
import subprocess
import sys
import time
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
    first_half = load_state(tmp_path / "halves" / "latest.safetensors")["run_id"]
    resumed = run(dataset, tmp_path, "halves", "--max-steps", "10", "--batch-size", "3", "--resume")
    losses = ["D", "G_gan", "G_L1"]
    assert [[r[k] for k in losses] for r in straight] == [[r[k] for k in losses] for r in resumed]
    assert [r["epoch"] for r in straight] == [r["epoch"] for r in resumed]  # crosses epoch boundaries (8 // 3 = 2 steps each)
    a, b = load_state(tmp_path / "straight" / "latest.safetensors"), load_state(tmp_path / "halves" / "latest.safetensors")
    for key in a["generator"]:
        assert torch.equal(a["generator"][key], b["generator"][key]), key
    assert a["step"] == b["step"] == 10
    assert b["run_id"] == first_half != a["run_id"]  # one run across the resume, told apart from another run


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


@pytest.mark.parametrize(("flags", "amp"), [("fpu avx2 avx512f avx512bw", "fp32"), ("fpu avx512f avx512_bf16", "bf16"),
                                           ("fpu avx512f amx_bf16 amx_tile", "bf16")])
def test_amp_auto_trains_in_bf16_only_on_cpus_that_have_it(dataset, tmp_path, fake_cpuinfo, flags, amp):
    fake_cpuinfo(flags)
    export = tmp_path / "auto.safetensors"
    run(dataset, tmp_path, "auto", "--max-steps", "1", "--device", "cpu", "--export", str(export))  # --amp auto, the default
    training = load_generator(export)[1].training
    assert training["amp"] == amp and training["device"].startswith("Test CPU @ 2.00GHz (")


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


RANK_THEN_THREADS = """
import os, sys
from pathlib import Path
import train
train.main(sys.argv[1:])
names = [Path(f"/proc/self/task/{task}/comm").read_text().strip() for task in os.listdir("/proc/self/task")]
Path(__file__).with_name(f"gloo-threads-{os.environ['RANK']}.txt").write_text(str(sum("gloo" in name for name in names)))
"""


def test_ddp_two_cpu_processes_keep_identical_weights_and_leave_no_gloo_thread(dataset, tmp_path):
    # A gloo group still running when the process exits is torn down there, where it aborted now and then.
    script = tmp_path / "rank.py"
    script.write_text(RANK_THEN_THREADS)
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",  # standalone: a free port, no race
        str(script), "--data", str(dataset), "--name", "ddp",
        "--runs", str(tmp_path), "--device", "cpu", "--max-steps", "4", "--batch-size", "2", "--sample-every", "0", *TINY,
    ]  # fmt: skip
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "PYTHONFAULTHANDLER": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "all 2 replicas hold identical weights" in result.stdout
    # Each rank writes its own file: two ranks printing to one pipe interleave their lines.
    assert [(tmp_path / f"gloo-threads-{rank}.txt").read_text() for rank in (0, 1)] == ["0", "0"]
    assert load_state(tmp_path / "ddp" / "latest.safetensors")["step"] == 4


def test_resume_refuses_settings_other_than_the_runs(dataset, tmp_path):
    run(dataset, tmp_path, "settled", "--max-steps", "2")
    with pytest.raises(SystemExit, match="--lr 0.0002 \\(now 0.001\\)"):
        run(dataset, tmp_path, "settled", "--resume", "--max-steps", "4", "--lr", "0.001")


def test_a_failed_resume_leaves_no_folder_and_stale_temporaries_are_removed(dataset, tmp_path):
    with pytest.raises(SystemExit):
        run(dataset, tmp_path, "never", "--resume")
    assert not (tmp_path / "never").exists()
    run(dataset, tmp_path, "crashed", "--max-steps", "1")
    stale = tmp_path / "crashed" / ".latest.safetensors.abc123.tmp"  # what a kill during a write leaves
    stale.write_bytes(b"half a checkpoint")
    run(dataset, tmp_path, "crashed", "--resume", "--max-steps", "2")
    assert not stale.exists()


def test_a_resumed_log_does_not_repeat_steps(dataset, tmp_path):
    run(dataset, tmp_path, "logged", "--max-steps", "4", "--save-every", "2")
    state_at_4 = load_state(tmp_path / "logged" / "latest.safetensors")["step"]
    log = tmp_path / "logged" / "log.jsonl"
    log.write_text(log.read_text() + json.dumps({"step": 5, "epoch": 0}) + "\n")  # a step logged after the last save
    records = run(dataset, tmp_path, "logged", "--resume", "--max-steps", "6")
    steps = [record["step"] for record in records]
    assert state_at_4 == 4 and steps == sorted(set(steps)) == list(range(1, 7))


def test_sigterm_saves_a_loadable_state_and_exits_cleanly(dataset, tmp_path):
    command = [sys.executable, str(ROOT / "train.py"), "--data", str(dataset), "--name", "stopped", "--runs", str(tmp_path),
               "--log-every", "1", "--sample-every", "0", "--save-every", "100000", *TINY]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = tmp_path / "stopped" / "log.jsonl"
    deadline = time.monotonic() + 120
    while not (log.is_file() and log.read_text().count("\n") >= 2):
        assert process.poll() is None and time.monotonic() < deadline, "training did not start"
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    state = load_state(tmp_path / "stopped" / "latest.safetensors")
    assert state["step"] >= 2 and "trained" in output


def test_the_direction_defaults_to_the_datasets_own(tmp_path):
    """facades records labels -> photo as BtoA: without --direction a run trains that way; the flag still wins."""
    (tmp_path / "dataset.json").write_text(json.dumps({"task": "facades", "input_kind": "labels", "direction": "BtoA"}))
    assert train.parse_arguments(["--data", str(tmp_path), "--name", "x"]).configs[2].direction == "BtoA"
    assert train.parse_arguments(["--data", str(tmp_path), "--name", "x", "--direction", "AtoB"]).configs[2].direction == "AtoB"
    assert train.parse_arguments(["--data", str(tmp_path / "bare"), "--name", "x"]).configs[2].direction == "AtoB"
