"""What a device is, in the words that explain its speed: recorded with every figure and every trained model."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import torch


def machine_name(device: torch.device) -> str:
    """GPU name, or CPU model, its widest vector instructions (what CPU speed hinges on) and core count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model} ({torch.backends.cpu.get_cpu_capability()}), {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
