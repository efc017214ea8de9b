"""bf16 autocast is chosen from the CPU's flags (a fake /proc/cpuinfo here), off where there are none."""

from __future__ import annotations

import torch

from llmscratch.training import precision
from llmscratch.training.precision import autocast, choose_precision, cpu_bf16_flags


def _cpuinfo(tmp_path, flags: str):
    path = tmp_path / "cpuinfo"
    path.write_text(
        f"processor\t: 0\nflags\t\t: fpu sse2 avx2 {flags}\n\nprocessor\t: 1\nflags\t\t: fpu sse2 avx2 {flags}\n"
    )
    return path


def test_amx_turns_bf16_on(tmp_path, monkeypatch):
    monkeypatch.setattr(precision, "probe_bf16_speedup", lambda: 0.5)  # AMX decides without the probe
    choice = choose_precision("cpu", cpuinfo=_cpuinfo(tmp_path, "amx_tile amx_bf16 avx512_bf16"))
    assert choice.dtype is torch.bfloat16
    assert "amx_bf16, avx512_bf16" in str(choice) and "\n" not in str(choice)


def test_a_cpu_without_bf16_units_stays_in_fp32(tmp_path):
    choice = choose_precision("cpu", cpuinfo=_cpuinfo(tmp_path, "avx512f"))
    assert choice.dtype is None
    assert str(choice).startswith("precision: float32")


def test_avx512_bf16_without_amx_is_measured_not_assumed(tmp_path, monkeypatch):
    info = _cpuinfo(tmp_path, "avx512f avx512_bf16")
    monkeypatch.setattr(precision, "probe_bf16_speedup", lambda: 0.54)  # measured on such a Xeon
    choice = choose_precision("cpu", cpuinfo=info)
    assert choice.dtype is None and "avx512_bf16 but no AMX" in str(choice)
    monkeypatch.setattr(precision, "probe_bf16_speedup", lambda: 2.0)
    assert choose_precision("cpu", cpuinfo=info).dtype is torch.bfloat16


def test_without_cpuinfo_the_cached_probe_decides(tmp_path, monkeypatch):
    monkeypatch.setattr(precision, "probe_bf16_speedup", lambda: 5.0)
    assert choose_precision("cpu", cpuinfo=tmp_path / "missing").dtype is torch.bfloat16
    monkeypatch.setattr(precision, "probe_bf16_speedup", lambda: 0.4)
    assert choose_precision("cpu", cpuinfo=tmp_path / "missing").dtype is None


def test_the_probe_is_cached(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        precision,
        "_time_linear_step",
        lambda dtype, **kw: calls.append(dtype) or (2.0 if dtype is None else 1.0),
    )
    cache = tmp_path / "probe.json"
    assert precision.probe_bf16_speedup(cache) == 2.0
    assert precision.probe_bf16_speedup(cache) == 2.0
    assert len(calls) == 2 * (7 + 1), (
        "alternating fp32 / bf16, a warm-up round + 7; the second call reads the cache"
    )


def test_flags_parser_reads_only_flag_lines(tmp_path):
    assert cpu_bf16_flags(_cpuinfo(tmp_path, "")) == []
    assert cpu_bf16_flags(tmp_path / "missing") is None


def test_autocast_none_is_a_no_op_and_bf16_really_casts():
    a = torch.randn(4, 4)
    with autocast("cpu", None):
        assert (a @ a).dtype is torch.float32
    with autocast("cpu", torch.bfloat16):
        assert (a @ a).dtype is torch.bfloat16
