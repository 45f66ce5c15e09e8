"""Averaging the weights of runs of one lineage (pix2pix.average): the mean of the weights, totals that count
shared training once, a result that warm-starts like any checkpoint, and refusals with reasons."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

import train
from pix2pix import average, checkpoint
from pix2pix.checkpoint import CheckpointError, critic_path, load_discriminator, load_generator, save_generator
from pix2pix.config import DiscriminatorConfig
from pix2pix.renorm import with_instance_norm
from tests.synthetic import write_aligned

TINY = ["--image-size", "64", "--load-size", "72", "--crop-size", "64", "--num-downs", "6", "--ngf", "8", "--d-ndf", "8",
        "--batch-size", "2", "--sample-every", "0"]


def train_tiny(data: Path, out: Path, *flags: str) -> Path:
    train.main(["--data", str(data), "--name", out.stem, "--runs", str(out.parent / "runs"), *TINY, *flags, "--export", str(out)])
    return out


@pytest.fixture(scope="module")
def lineage(tmp_path_factory) -> dict[str, Path]:
    """A first run (3 steps) and two runs warm-started from it (2 steps each, different seeds), as in a session."""
    root = tmp_path_factory.mktemp("lineage")
    write_aligned(root / "data" / "train", n=8)
    (root / "data" / "dataset.json").write_text(json.dumps({"task": "circles", "input_kind": "edges", "palette": None}))
    first = train_tiny(root / "data", root / "first.safetensors", "--max-steps", "3")
    models = {"data": root / "data", "first": first}
    for name, seed in (("left", "1"), ("right", "2")):
        models[name] = train_tiny(root / "data", root / f"{name}.safetensors", "--max-steps", "2", "--seed", seed,
                                  "--init-from", str(first))
    return models


def test_the_average_holds_the_mean_of_the_weights_and_counts_shared_training_once(lineage, tmp_path):
    out = tmp_path / "soup.safetensors"
    info = average.main([str(lineage["left"]), str(lineage["right"]), "--out", str(out)])
    averaged, stored = load_generator(out)
    left, right = load_generator(lineage["left"])[0], load_generator(lineage["right"])[0]
    for name, tensor in averaged.state_dict().items():
        if tensor.is_floating_point():
            expected = (left.state_dict()[name] + right.state_dict()[name]) / 2
            torch.testing.assert_close(tensor, expected.half().float(), rtol=0, atol=1e-3, msg=name)
    assert not torch.equal(next(left.parameters()), next(right.parameters()))  # the seeds made two different runs
    critics = [load_discriminator(critic_path(path)) for path in (lineage["left"], lineage["right"], out)]
    for before, after, mean in zip(*(critic.parameters() for critic in critics), strict=True):
        torch.testing.assert_close(mean, ((before + after) / 2).half().float(), rtol=0, atol=1e-3)
    assert stored == info and stored.metrics == {} and stored.task == "circles"
    assert [(record["checkpoint"], record["weight"]) for record in stored.training["averaged"]] == [
        ("left.safetensors", 0.5), ("right.safetensors", 0.5)]
    runs = [load_generator(lineage[name])[1].training for name in ("first", "left", "right")]
    assert stored.training["totals"]["images_seen"] == 6 + 4 + 4  # the shared first run once, not twice
    assert stored.training["totals"]["minutes"] == pytest.approx(sum(run["minutes"] for run in runs), abs=0.15)


def test_weights_move_the_average_toward_the_heavier_model_and_are_recorded(lineage, tmp_path):
    out = tmp_path / "quarter.safetensors"
    info = average.main([str(lineage["left"]), str(lineage["right"]), "--out", str(out), "--weights", "1", "3"])
    left, right, mixed = (load_generator(path)[0].state_dict() for path in (lineage["left"], lineage["right"], out))
    for name, tensor in mixed.items():
        if tensor.is_floating_point():
            expected = 0.25 * left[name] + 0.75 * right[name]
            torch.testing.assert_close(tensor, expected.half().float(), rtol=0, atol=1e-3, msg=name)
    critics = [load_discriminator(critic_path(path)) for path in (lineage["left"], lineage["right"], out)]
    for before, after, mean in zip(*(critic.parameters() for critic in critics), strict=True):
        torch.testing.assert_close(mean, (0.25 * before + 0.75 * after).half().float(), rtol=0, atol=1e-3)
    assert [record["weight"] for record in info.training["averaged"]] == [0.25, 0.75]
    assert info.training["totals"] == average.average_checkpoints(
        [lineage["left"], lineage["right"]], tmp_path / "equal.safetensors").training["totals"]  # weights scale weights, not training


@pytest.mark.parametrize(("weights", "message"), [(["1"], "1 weights for 2 checkpoints"), (["1", "0"], "weights must be positive"),
                                                  (["1", "-2"], "weights must be positive"), (["1", "nan"], "weights must be positive")])
def test_bad_weights_are_refused_in_one_line_before_anything_is_written(lineage, tmp_path, weights, message):
    out = tmp_path / "x.safetensors"
    with pytest.raises(SystemExit, match=f"error: {message}"):
        average.main([str(lineage["left"]), str(lineage["right"]), "--out", str(out), "--weights", *weights])
    assert not out.exists()


def test_a_model_averaged_with_its_own_warm_start_adds_nothing_to_the_totals(lineage, tmp_path):
    info = average.average_checkpoints([lineage["first"], lineage["left"]], tmp_path / "chain.safetensors")
    assert info.training["totals"] == load_generator(lineage["left"])[1].training["totals"]


def test_training_goes_on_from_an_average(lineage, tmp_path):
    path = tmp_path / "soup.safetensors"
    soup = average.average_checkpoints([lineage["left"], lineage["right"]], path)
    _, _, warm = train.warm_start(path, load_generator(lineage["left"])[0].config, DiscriminatorConfig(ndf=8))
    assert warm["totals"] == soup.training["totals"]
    assert [record["checkpoint"] for record in warm["init_from"]["training"]["averaged"]] == ["left.safetensors", "right.safetensors"]
    again = train_tiny(lineage["data"], tmp_path / "again.safetensors", "--max-steps", "1", "--init-from", str(path))
    assert load_generator(again)[1].training["totals"]["images_seen"] == 14 + 2
    # ... and an average of that run with one of the soup's ingredients still counts each run once
    assert average.average_checkpoints([again, lineage["left"]], tmp_path / "mixed.safetensors").training["totals"]["images_seen"] == 16


def test_a_run_averaged_with_the_model_it_started_from_records_that_models_lineage_once(lineage, tmp_path):
    soup = tmp_path / "soup.safetensors"
    average.average_checkpoints([lineage["left"], lineage["right"]], soup)
    run = train_tiny(lineage["data"], tmp_path / "run.safetensors", "--max-steps", "1", "--init-from", str(soup))
    step = average.average_checkpoints([run, soup], tmp_path / "step.safetensors").training
    kept, pruned = step["averaged"]
    assert kept["training"]["init_from"]["training"]["averaged"][0]["checkpoint"] == "left.safetensors"
    assert pruned["checkpoint"] == "soup.safetensors" and pruned["training"]["ancestors_in"] == "run.safetensors"
    assert "averaged" not in pruned["training"] and "init_from" not in pruned["training"]
    assert json.dumps(step).count('"checkpoint": "left.safetensors"') == 1  # not once per ingredient: no doubling per step
    assert step["totals"] == load_generator(run)[1].training["totals"]
    # the next average still finds every run through the ingredient that kept the lineage
    mixed = average.average_checkpoints([tmp_path / "step.safetensors", lineage["right"]], tmp_path / "mixed.safetensors")
    assert mixed.training["totals"]["images_seen"] == 14 + 2


def doubled_lineage(steps: int) -> dict:
    """A record as average wrote them before it pruned: each step's mean nests the shipped model twice, once in
    the run's warm start and once as the other ingredient, so the record doubles per step."""
    shipped = {"run_id": "r0", "steps": 1, "images_seen": 4, "minutes": 1.0}
    for step in range(1, steps + 1):
        run = {"run_id": f"r{step}", "steps": 1, "images_seen": 4, "minutes": 1.0,
               "init_from": {"checkpoint": "shipped.safetensors", "training": shipped}}
        shipped = {"averaged": [{"checkpoint": f"run{step}.safetensors", "training": run, "weight": 0.5},
                                {"checkpoint": "shipped.safetensors", "training": shipped, "weight": 0.5}]}
    return shipped


def test_an_old_doubled_lineage_is_compacted_at_every_level_and_keeps_every_run(lineage, tmp_path):
    doubled = doubled_lineage(8)
    assert json.dumps(doubled).count('"run_id": "r0"') == 2 ** 8
    compact = checkpoint.compact_lineage(doubled)
    # r0 stays twice at any depth: in the first run's warm start, and as the model that run was averaged with
    assert [json.dumps(checkpoint.compact_lineage(doubled_lineage(steps))).count('"run_id": "r0"') for steps in (1, 8)] == [2, 2]
    assert checkpoint.runs_behind(compact) == checkpoint.runs_behind(doubled) and len(checkpoint.runs_behind(compact)) == 9
    assert checkpoint.compact_lineage(compact) == compact
    # a checkpoint carrying such a record hands on the compact one, to an average and to a warm start alike
    generator, info = load_generator(lineage["left"])
    save_generator(tmp_path / "old.safetensors", generator, dataclasses.replace(info, training=doubled))
    assert checkpoint.lineage_record(tmp_path / "old.safetensors", load_generator(tmp_path / "old.safetensors")[1])["training"] == compact


def test_an_instance_norm_run_averages_with_the_batchnorm_model_it_started_from_carried_over(lineage, tmp_path):
    renormed = train_tiny(lineage["data"], tmp_path / "renormed.safetensors", "--max-steps", "2", "--norm", "instance-affine",
                          "--init-from", str(lineage["first"]))
    out = tmp_path / "soup.safetensors"
    average.main([str(renormed), str(lineage["first"]), "--out", str(out)])
    averaged = load_generator(out)[0]
    run, parent = load_generator(renormed)[0], with_instance_norm(load_generator(lineage["first"])[0])
    assert averaged.config.norm == "instance-affine" and averaged.state_dict().keys() == parent.state_dict().keys()
    for name, tensor in averaged.state_dict().items():
        expected = (run.state_dict()[name] + parent.state_dict()[name]) / 2
        torch.testing.assert_close(tensor, expected.half().float(), rtol=0, atol=1e-3, msg=name)


def test_unrelated_models_are_refused(lineage, tmp_path):
    stranger = train_tiny(lineage["data"], tmp_path / "stranger.safetensors", "--max-steps", "3", "--seed", "5")
    with pytest.raises(CheckpointError, match="share no training run"):
        average.average_checkpoints([lineage["left"], stranger], tmp_path / "x.safetensors")


def test_models_of_other_architectures_tasks_or_without_a_critic_are_refused(lineage, tmp_path):
    wide = train_tiny(lineage["data"], tmp_path / "wide.safetensors", "--max-steps", "1", "--ngf", "16")
    with pytest.raises(CheckpointError, match="different architectures"):
        average.average_checkpoints([lineage["left"], wide], tmp_path / "x.safetensors")
    generator, info = load_generator(lineage["right"])
    info.task = "squares"
    renamed = tmp_path / "renamed.safetensors"
    save_generator(renamed, generator, info)
    with pytest.raises(CheckpointError, match="no critic beside it"):
        average.average_checkpoints([lineage["left"], renamed], tmp_path / "x.safetensors")
    critic_path(renamed).write_bytes(critic_path(lineage["right"]).read_bytes())
    with pytest.raises(CheckpointError, match="differ in task: 'squares' and 'circles'"):
        average.average_checkpoints([lineage["left"], renamed], tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_the_command_line_needs_two_checkpoints_and_reports_errors_in_one_line(lineage, tmp_path, capsys):
    with pytest.raises(SystemExit):
        average.main([str(lineage["left"]), "--out", str(tmp_path / "x.safetensors")])
    assert "at least two checkpoints" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="error: .*does not exist"):
        average.main([str(lineage["left"]), str(tmp_path / "missing.safetensors"), "--out", str(tmp_path / "x.safetensors")])
