"""What a device is, in the words that explain its speed: recorded with every figure and every trained model."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import torch

CPUINFO = Path("/proc/cpuinfo")
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo's names for bf16 arithmetic in hardware


def cpuinfo(field: str) -> str:
    """The first CPU's `field` in /proc/cpuinfo ('model name', 'flags'); empty where Linux does not tell."""
    with contextlib.suppress(OSError):
        for line in CPUINFO.read_text().splitlines():
            if line.split(":", 1)[0].strip() == field:
                return line.split(":", 1)[1].strip()
    return ""


def native_bf16(device: torch.device) -> bool:
    """Whether bf16 autocast pays on `device`: on GPUs, and on CPUs with AVX512-BF16 or AMX. Elsewhere oneDNN
    emulates it, and it trained at half fp32's speed (lineage step 22). torch's own CPU capability says
    "AVX512" either way, so the flags decide."""
    return device.type == "cuda" or any(flag in cpuinfo("flags").split() for flag in NATIVE_BF16_FLAGS)


def machine_name(device: torch.device) -> str:
    """GPU name, or CPU model, its widest vector instructions and bf16 hardware (what CPU speed hinges on) and core count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    flags = cpuinfo("flags").split()
    bf16 = [flag.upper().replace("_", "-") for flag in NATIVE_BF16_FLAGS if flag in flags]  # AVX512-BF16, AMX-BF16
    capability = ", ".join([torch.backends.cpu.get_cpu_capability(), *bf16])
    return f"{cpuinfo('model name') or 'unknown CPU'} ({capability}), {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
