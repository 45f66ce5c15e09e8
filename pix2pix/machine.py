"""What a device is, in the words that explain its speed: recorded with every figure and every trained model."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import torch

CPUINFO = Path("/proc/cpuinfo")
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo's names for bf16 arithmetic in hardware


def cpuinfo() -> dict[str, str]:
    """The first CPU's fields in /proc/cpuinfo ('model name', 'flags', ...); empty where Linux does not tell."""
    fields: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in CPUINFO.read_text().splitlines():
            key, colon, value = line.partition(":")
            if colon:
                fields.setdefault(key.strip(), value.strip())
    return fields


def bf16_flags(fields: dict[str, str]) -> list[str]:
    """Which of NATIVE_BF16_FLAGS the CPU described by `fields` lists."""
    flags = fields.get("flags", "").split()
    return [flag for flag in NATIVE_BF16_FLAGS if flag in flags]


def native_bf16(device: torch.device) -> bool:
    """Whether bf16 autocast pays on `device`: on GPUs, and on CPUs with AVX512-BF16 or AMX. Elsewhere oneDNN
    emulates it, and it trained at half fp32's speed (lineage step 22). torch's own CPU capability says
    "AVX512" either way, so the flags decide."""
    return device.type == "cuda" or bool(bf16_flags(cpuinfo()))


def machine_name(device: torch.device) -> str:
    """GPU name, or CPU model, its widest vector instructions and bf16 hardware (what CPU speed hinges on) and core count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    fields = cpuinfo()
    bf16 = [flag.upper().replace("_", "-") for flag in bf16_flags(fields)]  # AVX512-BF16, AMX-BF16
    capability = ", ".join([torch.backends.cpu.get_cpu_capability(), *bf16])
    return f"{fields.get('model name') or 'unknown CPU'} ({capability}), {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
