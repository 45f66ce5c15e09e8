"""Average the weights of models of one lineage: python -m pix2pix.average A B [C ...] --out FILE [--weights ...]

Runs warm-started from the same checkpoint (or one from another) end near each other in weight space, and
the mean of their weights paints better than either: the "model soup" of Wortsman et al. 2022, or the
stochastic weight averaging of Izmailov et al. 2018 taken across runs instead of along one. The average
needs no data and no training; BatchNorm's running statistics are averaged with the weights (measuring them
anew for the averaged weights scored no better). Generators and critics are averaged alike, so that the result
can be shipped, evaluated (`python -m pix2pix.evaluate --write-metrics`) and warm-started from like any run's.
`--weights` takes a weighted mean instead (1 3: a quarter of the way from the second model to the first), for a
new run that moved too far from the model it was warm-started from. A run that went on with affine instance norm
(`--norm instance-affine`) averages with the BatchNorm model it started from carried over the same way
(`pix2pix.renorm`).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from torch import nn

from pix2pix.checkpoint import (
    CheckpointError,
    ModelInfo,
    critic_path,
    lineage_record,
    load_discriminator,
    load_generator,
    pruned_ingredients,
    runs_behind,
    save_discriminator,
    save_generator,
    scoring_hint,
    training_totals,
)
from pix2pix.renorm import with_instance_norm

SHARED = ("task", "input_kind", "palette", "image_size", "pencil_width")  # what the studio reads; must agree


def mixing_weights(count: int, weights: list[float] | None) -> list[float]:
    """`weights` (equal ones if None) for `count` models, scaled to sum to 1: each must be positive and finite."""
    weights = [1.0] * count if weights is None else weights
    if len(weights) != count:
        raise CheckpointError(f"{len(weights)} weights for {count} checkpoints; give one weight per checkpoint")
    if not all(math.isfinite(weight) and weight > 0 for weight in weights):
        raise CheckpointError(f"weights must be positive numbers, got {weights} (leave a model out rather than weigh it 0)")
    return [weight / sum(weights) for weight in weights]


def mean_weights(models: list[nn.Module], weights: list[float]) -> nn.Module:
    """The first model, holding the `weights`-weighted mean of all the models' floating-point tensors (integer
    counters are its own); `weights` sum to 1."""
    states = [model.state_dict() for model in models]
    mean = {name: sum(weight * state[name].float() for weight, state in zip(weights, states, strict=True))
            if tensor.is_floating_point() else tensor for name, tensor in states[0].items()}
    models[0].load_state_dict(mean)
    return models[0]


def combined_totals(records: list[dict[str, Any]], lineages: list[dict[Any, dict[str, Any]]]) -> dict[str, Any]:
    """The totals of all training behind the ingredients' `records`, whose `runs_behind` are `lineages`, counting
    shared runs once (never less than any one ingredient's own totals, should an old record have lost part of
    its lineage)."""
    runs = {key: run for lineage in lineages for key, run in lineage.items()}
    totals = [training_totals(record) for record in records]
    return {
        "images_seen": max(sum(run["images_seen"] for run in runs.values()), *(total["images_seen"] for total in totals)),
        "minutes": round(max(sum(run["minutes"] for run in runs.values()), *(total["minutes"] for total in totals)), 1),
        "machines": sorted({machine for total in totals for machine in total.get("machines", [])}),
    }


def average_checkpoints(paths: list[Path], out: Path, weights: list[float] | None = None) -> ModelInfo:
    """Write the average of the generators in `paths` to `out`, and of their critics beside it, weighted by
    `weights` (one per path, any positive scale) or equally."""
    if len(paths) < 2:
        raise CheckpointError("averaging needs at least two checkpoints")
    weights = mixing_weights(len(paths), weights)
    loaded = [load_generator(path) for path in paths]
    if any(generator.config.norm == "instance-affine" for generator, _ in loaded):
        loaded = [(with_instance_norm(generator) if generator.config.norm == "batch" else generator, info)
                  for generator, info in loaded]
    critics = []
    for path in paths:
        if not critic_path(path).is_file():
            raise CheckpointError(f"{path.name} has no critic beside it ({critic_path(path).name}); every ingredient needs one")
        critics.append(load_discriminator(critic_path(path)))
    first_path, (first, first_info) = paths[0], loaded[0]
    for path, (generator, info), critic in zip(paths[1:], loaded[1:], critics[1:], strict=True):
        if generator.config != first.config or critic.config != critics[0].config:
            raise CheckpointError(f"{path.name} and {first_path.name} have different architectures; only models of one lineage average")
        for name in SHARED:
            if getattr(info, name) != getattr(first_info, name):
                raise CheckpointError(f"{path.name} and {first_path.name} differ in {name}: "
                                      f"{getattr(info, name)!r} and {getattr(first_info, name)!r}")
    records = [info.training for _, info in loaded]
    lineages = [runs_behind(record) for record in records]
    for path, lineage in zip(paths[1:], lineages[1:], strict=True):
        if not lineage.keys() & lineages[0].keys():
            raise CheckpointError(f"{path.name} and {first_path.name} share no training run; the weights of unrelated "
                                  "models do not average into a model (warm-start them from one checkpoint)")
    info = ModelInfo(
        **{name: getattr(first_info, name) for name in SHARED},
        training={"data": records[0].get("data"), "train_pairs": records[0].get("train_pairs"),
                  "averaged": pruned_ingredients([{**lineage_record(path, info), "weight": weight}  # each one compact
                                                  for path, (_, info), weight in zip(paths, loaded, weights, strict=True)]),
                  "totals": combined_totals(records, lineages)},
    )  # metrics stay empty: the average has to be evaluated on its own
    save_generator(out, mean_weights([generator for generator, _ in loaded], weights), info)
    save_discriminator(critic_path(out), mean_weights(critics, weights))
    return info


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", type=Path, nargs="+", help="generator .safetensors files, each with its critic beside it")
    parser.add_argument("--out", type=Path, required=True, help="where to write the average (its critic goes beside it)")
    parser.add_argument("--weights", type=float, nargs="+", metavar="W",
                        help="one positive weight per checkpoint, in order, scaled to sum to 1 (default: equal)")
    arguments = parser.parse_args(argv)
    if len(arguments.checkpoints) < 2:
        parser.error("give at least two checkpoints to average")
    return arguments


def main(argv: list[str] | None = None) -> ModelInfo:
    arguments = parse_arguments(argv)
    try:
        info = average_checkpoints(arguments.checkpoints, arguments.out, arguments.weights)
    except CheckpointError as error:
        sys.exit(f"error: {error}")
    totals = info.training["totals"]
    mean = "weighted mean" if arguments.weights else "mean"
    print(f"wrote {arguments.out} and {critic_path(arguments.out)}: the {mean} of {len(arguments.checkpoints)} models, "
          f"{totals['images_seen']} images and {totals['minutes']} min of training behind them. "
          f"{scoring_hint(arguments.out)}")
    return info


if __name__ == "__main__":
    main()
