"""Checkpoints: safetensors files whose metadata carries everything needed to rebuild the model.

No pickle anywhere: tensors go in the safetensors body; configs, task, palette, metrics and
the non-tensor parts of optimiser state go in its string metadata as JSON. Writes are atomic.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from pix2pix.config import ConfigError, DiscriminatorConfig, GeneratorConfig, from_dict
from pix2pix.models import PatchDiscriminator, UNetGenerator

FORMAT = "pix2pix-studio/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with a message that says why."""


@dataclass
class ModelInfo:
    """What a checkpoint says about its model, beyond the weights."""

    task: str = "pix2pix"
    input_kind: str = "edges"  # "edges" | "labels" | "photo"
    palette: dict[str, Any] | None = None  # {"names": [...], "colors": [[r, g, b], ...]} for label maps
    image_size: int = 256
    pencil_width: int = 2  # edges models: the line width they were trained on, the studio pencil's default
    epoch: int = 0
    step: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)  # held-out scores, with the split and image count
    training: dict[str, Any] = field(default_factory=dict)  # data, time, settings: the model's provenance

    def to_metadata(self) -> dict[str, str]:
        return {key: json.dumps(value) for key, value in dataclasses.asdict(self).items()}

    @classmethod
    def from_metadata(cls, metadata: dict[str, str]) -> ModelInfo:
        """The model info in a checkpoint's metadata; a field that cannot be read is named in a CheckpointError."""
        values = {}
        for item in dataclasses.fields(cls):
            if item.name not in metadata:
                continue
            try:
                values[item.name] = json.loads(metadata[item.name])
            except json.JSONDecodeError:
                raise CheckpointError(f"its metadata field {item.name!r} is not valid JSON") from None
            value = values[item.name]
            if not isinstance(value, _METADATA_TYPES[item.name]) or isinstance(value, bool):
                raise CheckpointError(f"its metadata field {item.name!r} holds {str(value)[:60]!r}, which is not a valid {item.name}")
        return cls(**values)


_METADATA_TYPES = {"task": str, "input_kind": str, "palette": (dict, type(None)), "image_size": int, "pencil_width": int,
                   "epoch": int, "step": int, "metrics": dict, "training": dict}  # ModelInfo's fields, as JSON gives them


def lineage_record(path: str | Path, info: ModelInfo) -> dict[str, Any]:
    """What a model made from the checkpoint at `path` records of it: its name, held-out scores and training
    record (without the configs, which the new model carries itself), so lineages nest without growing much."""
    training = {key: value for key, value in info.training.items() if key not in ("config", "discriminator")}
    return {"checkpoint": Path(path).name, "task": info.task, "step": info.step, "metrics": info.metrics,
            "training": compact_lineage(training)}


def runs_behind(training: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    """Every training run in a record's lineage, once each: a run shared by several ingredients of an average
    (their common warm start) appears in each one's lineage but was trained once."""
    runs = {}
    if training.get("steps"):  # an average has no run of its own
        key = training.get("run_id") or tuple(training.get(name) for name in ("data", "device", "steps", "images_seen", "minutes"))
        runs[key] = {"images_seen": training.get("images_seen", 0), "minutes": training.get("minutes", 0.0)}
    for parent in ([training["init_from"]] if training.get("init_from") else []) + training.get("averaged", []):
        runs.update(runs_behind(parent["training"]))
    return runs


def compact_lineage(training: dict[str, Any]) -> dict[str, Any]:
    """A training record in which each average, at every level, keeps the ancestors of an ingredient only once
    (`pruned_ingredients`)."""
    compact = dict(training)
    if training.get("init_from"):
        compact["init_from"] = {**training["init_from"], "training": compact_lineage(training["init_from"]["training"])}
    if training.get("averaged"):
        compact["averaged"] = pruned_ingredients([{**ingredient, "training": compact_lineage(ingredient["training"])}
                                                  for ingredient in training["averaged"]])
    return compact


def pruned_ingredients(ingredients: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lineage records of an average's ingredients, where one whose runs another ingredient's lineage already
    holds (a run averaged with the model it started from) records that one's name instead of its ancestors.
    Recording them twice would double the metadata at every such step; the runs, and the totals counted from
    them, stay reachable through the other ingredient."""
    runs = [runs_behind(ingredient["training"]).keys() for ingredient in ingredients]
    pruned = []
    for index, ingredient in enumerate(ingredients):
        holder = next((other for other, held in enumerate(runs) if other != index
                       and (runs[index] < held or (runs[index] == held and other < index))), None)
        if holder is not None:
            kept = {key: value for key, value in ingredient["training"].items() if key not in ("init_from", "averaged")}
            ingredient = {**ingredient, "training": {**kept, "ancestors_in": ingredients[holder]["checkpoint"]}}
        pruned.append(ingredient)
    return pruned


def derived_record(path: str | Path, info: ModelInfo, **changes: str) -> dict[str, Any]:
    """The training record that a model made from the checkpoint at `path` starts with: that checkpoint as its
    parent, with any architecture `changes` noted, and the totals of all the training behind it."""
    return {"init_from": {**lineage_record(path, info), **changes}, "totals": training_totals(info.training)}


def scoring_hint(path: str | Path) -> str:
    """What to run next on a checkpoint made from others (a mean, a carried-over model): it has no scores yet."""
    return f"Score it with python -m pix2pix.evaluate --checkpoint {path} --data DIR --write-metrics"


def training_totals(training: dict[str, Any]) -> dict[str, Any]:
    """Images seen, minutes and machines of all the training behind a model's training record."""
    return training.get("totals") or {"images_seen": training.get("images_seen", 0), "minutes": training.get("minutes", 0.0),
                                      "machines": [training["device"]] if "device" in training else []}


def write_safetensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Write to a temporary file beside `path`, then rename: a crash never leaves half a checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, temporary, metadata={"format": FORMAT, **metadata})
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a checkpoint is meant to be shared
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_safetensors(path: str | Path, device: str | torch.device = "cpu") -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read tensors and metadata, refusing files that are not this project's checkpoints."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as file:
            metadata = file.metadata() or {}
            if metadata.get("format") != FORMAT:
                raise CheckpointError(f"{path.name} is not a pix2pix studio checkpoint (format {metadata.get('format')!r})")
            return {key: file.get_tensor(key) for key in file.keys()}, metadata  # noqa: SIM118 (not a dict)
    except (SafetensorError, OSError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path.name} cannot be read as a safetensors checkpoint: {error}") from None


def save_generator(path: str | Path, generator: UNetGenerator, info: ModelInfo, dtype: torch.dtype = torch.float16) -> None:
    """Ship a generator: weights (fp16 by default, half the size) + config + model info."""
    tensors = {k: v.to(dtype) if v.is_floating_point() else v for k, v in generator.state_dict().items()}
    metadata = {"model": "generator", "config": json.dumps(dataclasses.asdict(generator.config)), **info.to_metadata()}
    write_safetensors(path, tensors, metadata)


def save_discriminator(path: str | Path, discriminator: PatchDiscriminator, dtype: torch.dtype = torch.float16) -> None:
    """Ship the PatchGAN beside its generator, for the demo's 'what the critic sees' view."""
    tensors = {k: v.to(dtype) if v.is_floating_point() else v for k, v in discriminator.state_dict().items()}
    write_safetensors(path, tensors, {"model": "discriminator", "config": json.dumps(dataclasses.asdict(discriminator.config))})


def critic_path(generator_path: str | Path) -> Path:
    """The discriminator ships beside its generator: NAME.safetensors -> NAME.critic.safetensors."""
    generator_path = Path(generator_path)
    return generator_path.with_name(generator_path.stem + ".critic.safetensors")


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> tuple[UNetGenerator, ModelInfo]:
    """Rebuild a generator from a checkpoint alone; it comes back in eval mode, in float32."""
    tensors, metadata = read_safetensors(path)
    if metadata.get("model") != "generator":
        raise CheckpointError(f"{Path(path).name} holds a {metadata.get('model')!r}, not a generator")
    generator = UNetGenerator(_config(GeneratorConfig, metadata, path))
    _load_weights(generator, tensors, path)
    try:
        info = ModelInfo.from_metadata(metadata)
    except CheckpointError as error:
        raise CheckpointError(f"{Path(path).name}: {error}") from None
    return generator.to(device).eval(), info


def load_discriminator(path: str | Path, device: str | torch.device = "cpu") -> PatchDiscriminator:
    """Rebuild a PatchGAN discriminator from a checkpoint alone, in eval mode, in float32."""
    tensors, metadata = read_safetensors(path)
    if metadata.get("model") != "discriminator":
        raise CheckpointError(f"{Path(path).name} holds a {metadata.get('model')!r}, not a discriminator")
    discriminator = PatchDiscriminator(_config(DiscriminatorConfig, metadata, path))
    _load_weights(discriminator, tensors, path)
    return discriminator.to(device).eval()


def _config(config_class: type, metadata: dict[str, str], path: str | Path) -> Any:
    if "config" not in metadata:
        raise CheckpointError(f"{Path(path).name} has no model config in its metadata")
    try:
        return from_dict(config_class, json.loads(metadata["config"]))
    except json.JSONDecodeError:
        raise CheckpointError(f"{Path(path).name}'s model config is not valid JSON") from None
    except ConfigError as error:
        raise CheckpointError(f"{Path(path).name}'s model config is wrong: {error}") from None


def _load_weights(module: torch.nn.Module, tensors: dict[str, torch.Tensor], path: str | Path) -> None:
    expected = module.state_dict()
    if set(tensors) != set(expected) or any(tensors[k].shape != v.shape for k, v in expected.items()):
        raise CheckpointError(f"{Path(path).name}: its weights do not match the architecture in its own config")
    module.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})


def pack_state(state: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Turn a nested state (optimiser state_dict, RNG states...) into JSON, moving tensors into
    `tensors`. Dicts become key/value pair lists so integer keys survive the round trip, and
    tuples stay tuples."""
    if isinstance(state, torch.Tensor):
        tensors[prefix] = state
        return {"tensor": prefix}
    if isinstance(state, dict):
        return {"dict": [[key, pack_state(value, f"{prefix}.{key}", tensors)] for key, value in state.items()]}
    if isinstance(state, (list, tuple)):
        kind = "tuple" if isinstance(state, tuple) else "list"  # Adam's betas must come back as a tuple
        return {kind: [pack_state(value, f"{prefix}.{i}", tensors) for i, value in enumerate(state)]}
    return {"value": state}


def unpack_state(packed: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of `pack_state`."""
    if "tensor" in packed:
        return tensors[packed["tensor"]]
    if "dict" in packed:
        return {key: unpack_state(value, tensors) for key, value in packed["dict"]}
    if "list" in packed:
        return [unpack_state(value, tensors) for value in packed["list"]]
    if "tuple" in packed:
        return tuple(unpack_state(value, tensors) for value in packed["tuple"])
    return packed["value"]


def save_state(path: str | Path, state: dict[str, Any]) -> None:
    """Save a whole training state (models, optimisers, schedulers, RNG, counters), atomically."""
    tensors: dict[str, torch.Tensor] = {}
    packed = pack_state(state, "state", tensors)
    write_safetensors(path, tensors, {"model": "training-state", "state": json.dumps(packed)})


def load_state(path: str | Path) -> dict[str, Any]:
    """Load what `save_state` wrote."""
    tensors, metadata = read_safetensors(path)
    if metadata.get("model") != "training-state":
        raise CheckpointError(f"{Path(path).name} is not a training state (it holds a {metadata.get('model')!r})")
    return unpack_state(json.loads(metadata["state"]), tensors)
