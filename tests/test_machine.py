"""A machine is named by what its speed hinges on, and bf16 autocast is chosen only where the CPU computes it."""


import pytest
import torch

from pix2pix.machine import cpuinfo, machine_name, native_bf16

CPU = torch.device("cpu")


def test_a_cpu_without_bf16_hardware_is_named_by_its_vector_width_alone(fake_cpuinfo):
    fake_cpuinfo("fpu sse2 avx2 avx512f avx512bw avx512_vnni")
    assert cpuinfo()["model name"] == "Test CPU @ 2.00GHz"
    assert not native_bf16(CPU)
    assert machine_name(CPU).startswith(f"Test CPU @ 2.00GHz ({torch.backends.cpu.get_cpu_capability()}), ")
    assert "BF16" not in machine_name(CPU)


@pytest.mark.parametrize(("flags", "named"), [
    ("avx512f avx512_bf16", "AVX512-BF16"),
    ("avx512f amx_bf16 amx_tile", "AMX-BF16"),
    ("avx512f avx512_bf16 amx_bf16", "AVX512-BF16, AMX-BF16"),
])
def test_bf16_hardware_turns_autocast_on_and_is_named(fake_cpuinfo, flags, named):
    fake_cpuinfo(flags)
    assert native_bf16(CPU)
    assert f"({torch.backends.cpu.get_cpu_capability()}, {named}), " in machine_name(CPU)


def test_an_unreadable_cpuinfo_is_an_unknown_cpu_without_bf16(tmp_path, monkeypatch):
    monkeypatch.setattr("pix2pix.machine.CPUINFO", tmp_path / "missing")
    assert cpuinfo() == {} and not native_bf16(CPU)
    assert machine_name(CPU).startswith("unknown CPU (")
    assert native_bf16(torch.device("cuda"))  # GPUs keep bf16 autocast, as before
