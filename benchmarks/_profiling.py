"""What ``profile_generation.py`` measures with: op groups, forward-pass marks, the profiled decode step, bytes.

Not a benchmark itself (the leading underscore keeps it out of ``run_all.py``'s list).

- ``profiled(model, fn)``: ``fn`` under ``torch.profiler``; each op no other op called is put in a
  group (``GROUPS``), inside a *prefill* or *decode* forward pass (``Marked``'s hooks) or in the loop
  around them; ``NO_OP`` ("no op (Python)") is the time no op was running.
- ``step_table``: the decode step of several variants by group; ``bytes_line``: bytes moved per step
  against the measured bandwidth and FLOP peak, and the bound they show (``verdict``).
"""

from __future__ import annotations

import time
from collections import Counter

import _harness as H
import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function

# Op groups, by the name of an op that no other op called (aten:: stripped). Anything else: "other ops".
GROUPS = {
    name: set(ops.split())
    for name, ops in {
        "linear": "linear addmm mm matmul _weight_int8pack_mm linear_dynamic _int_mm",
        "attention": "scaled_dot_product_attention _scaled_dot_product_flash_attention_for_cpu bmm",
        "kv cache / sequence": "cat copy_ index index_put_ index_select stack clone",
        "norms, activations, RoPE": "layer_norm gelu silu mul add add_ rsqrt pow mean neg sub div cos sin "
        "rms_norm embedding tanh float to _to_copy bfloat16",
        "sampling": "argmax max topk sort multinomial softmax isnan isposinf isneginf any all item "
        "_local_scalar_dense is_nonzero full eq ne masked_fill masked_fill_ nonzero __or__ __ior__ "
        "bitwise_or bitwise_or_ logical_or fill_ where ones zeros scatter squeeze",
        "masks, positions": "arange cumsum clamp clamp_min __and__ bitwise_and ge le lt gt bitwise_not "
        "logical_not ones_like new_ones triu tril",
        "views (dispatcher)": "view reshape transpose unsqueeze slice select expand as_strided t _unsafe_view "
        "chunk split permute contiguous detach alias lift_fresh empty empty_like new_empty resize_",
    }.items()
}
PHASES = ("prefill", "decode")
NO_OP = "no op (Python)"  # the time no op runs (a table row starting with the word python reads as a command)


def group_of(name: str) -> str:
    short = name.split("::")[-1]
    return next((g for g, names in GROUPS.items() if short in names), "other ops")


class Marked:
    """Forward hooks that wrap each forward pass of ``model`` in ``record_function("prefill"|"decode")``
    and count passes, rows and tokens (``real``: attention-mask ones of a prefill)."""

    def __init__(self, model: nn.Module, clock=time.perf_counter):
        self.calls: list[list] = []  # [phase, batch, tokens, real tokens, seconds]
        self.clock = clock
        self._open = []
        self._handles = [
            model.register_forward_pre_hook(self._pre, with_kwargs=True),
            model.register_forward_hook(self._post),
        ]

    def _pre(self, module, args, kwargs):
        ids = (
            args[0] if args and torch.is_tensor(args[0]) else kwargs.get("input_ids", kwargs.get("token_ids"))
        )
        mask = kwargs.get("attention_mask")
        b, t = ids.shape
        phase = "prefill" if t > 1 else "decode"
        real = b * t if mask is None or mask.shape[1] != t else int(mask.sum())
        ctx = record_function(phase)
        ctx.__enter__()
        self._open.append(ctx)
        self.calls.append([phase, b, t, real, self.clock()])

    def _post(self, module, args, output):
        self.calls[-1][4] = self.clock() - self.calls[-1][4]
        self._open.pop().__exit__(None, None, None)

    def remove(self):
        for h in self._handles:
            h.remove()


def profiled(model: nn.Module, fn, repeats: int = 3):
    """Run ``fn`` under the profiler ``repeats`` times: (wall s, {(phase, group): s}, calls, other ops).

    phase is "prefill", "decode" or "loop" (ops outside any forward pass); group ``NO_OP`` is the
    time inside a phase (or, for the loop, the whole run) when no op was running. The profiler's
    clock is the wall clock, which a busy machine inflates at random (our process waits for a
    core): every entry is its minimum over the repeats, the run least disturbed there.
    """
    best: dict = {}
    walls, other = [], Counter()
    for _ in range(repeats):
        marked = Marked(model)
        try:
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                start = time.perf_counter()
                fn()
                walls.append(time.perf_counter() - start)
        finally:
            marked.remove()
        times: Counter = Counter()
        for ev in prof.events():
            if ev.cpu_parent is not None:
                continue
            phase = ev.name if ev.name in PHASES else "loop"
            children = ev.cpu_children if ev.name in PHASES else [ev]
            if ev.name in PHASES:
                times[phase, NO_OP] += (ev.cpu_time_total - sum(c.cpu_time_total for c in children)) / 1e6
            for c in children:
                g = group_of(c.name)
                times[phase, g] += c.cpu_time_total / 1e6
                if g == "other ops":
                    other[c.name] += c.cpu_time_total / 1e6
        times["loop", NO_OP] += walls[-1] - sum(times.values())
        for key, v in times.items():
            best[key] = min(best.get(key, v), v)
    return min(walls), Counter(best), marked.calls, other


def step_table(
    rows: dict[str, tuple], reference: str, steps: dict[str, float]
) -> dict[str, dict[str, float]]:
    """Print each variant's decode step by op group, as % of ``reference``'s step; return seconds per step by group.

    The shares come from the profiled run (the profiler's wall clock); the step itself is the one
    measured without the profiler (``steps``, the run's clock), so a variant the load happened to
    slow down more under the profiler does not look slower than it is.
    """
    groups = [*GROUPS, "other ops", NO_OP]
    per_step = {}
    for name, (_wall, times, calls, _other) in rows.items():
        n_decode = max(1, sum(1 for c in calls if c[0] == "decode"))
        n_steps = max(1, len(calls))  # the loop's work is shared by every forward pass
        raw = {g: times["decode", g] / n_decode + times["loop", g] / n_steps for g in groups}
        per_step[name] = {g: v / sum(raw.values()) * steps[name] for g, v in raw.items()}
    ref_total = steps[reference]
    print(
        f"  decode step by op group, as % of {reference}'s step (profiled shares x step time without the profiler;"
    )
    print(f"  '{NO_OP}' = the interpreter runs, no op does):")
    print(f"  {'group':<26}" + "".join(f"{n:>16}" for n in rows))
    for g in groups:
        print(f"  {g:<26}" + "".join(f"{100 * per_step[n][g] / ref_total:15.1f}%" for n in rows))
    print(f"  {'total':<26}" + "".join(f"{100 * steps[n] / ref_total:15.1f}%" for n in rows))
    for name, (_, _, _, other) in rows.items():
        if other:
            print(f"  {name}: largest 'other ops': " + ", ".join(f"{k}" for k, _ in other.most_common(4)))
    return per_step


def linear_weight_bytes(model: nn.Module) -> int:
    """Bytes a decode step's matrix multiplies read: each Linear / Int8Linear weight once (a tied head too)."""
    from llmscratch.weights.quantize import Int8Linear

    total = 0
    for m in model.modules():
        if isinstance(m, Int8Linear):
            total += m.q.numel() * m.q.element_size() + m.scale.numel() * 2  # int8 table + bf16 scales
        elif isinstance(m, nn.Linear):
            total += m.weight.numel() * m.weight.element_size()
    return total


def verdict(bw_share: float, flop_share: float, python_share: float) -> str:
    if bw_share >= 0.6:
        return f"bandwidth-bound ({100 * bw_share:.0f}% of the measured read bandwidth)"
    if flop_share >= 0.6:
        return f"compute-bound ({100 * flop_share:.0f}% of the measured matmul peak)"
    if python_share >= 0.3:
        return f"overhead-bound ({100 * python_share:.0f}% of the step runs no op)"
    return (
        f"kernel-bound: the step reaches neither the bandwidth ({100 * bw_share:.0f}%) nor the FLOP peak "
        f"({100 * flop_share:.0f}%) and only {100 * python_share:.0f}% runs no op"
    )


def bytes_line(name, step_s, weight_b, kv_b, flops, bw, peak, python_share) -> None:
    moved = weight_b + kv_b
    print(
        f"  {name}: {moved / 1e6:.0f} MB per decode step ({weight_b / 1e6:.0f} MB weights + {kv_b / 1e6:.1f} MB KV "
        f"cache at the mean position), {moved / step_s / 1e9:.2f} GB/s = {100 * moved / step_s / bw:.0f}% of "
        f"the measured {bw / 1e9:.1f} GB/s; {flops / step_s / 1e9:.1f} GFLOP/s = {100 * flops / step_s / peak:.0f}% "
        f"of the measured matmul peak\n    -> {verdict(moved / step_s / bw, flops / step_s / peak, python_share)}"
    )


def unprofiled_step(fns: dict, clock, rounds: int) -> dict[str, float]:
    """Seconds per decode step without the profiler: (n = 1 + K) run minus (n = 1) run, divided by K."""
    times = H.interleaved(fns, rounds=rounds, warmup=1, clock=clock, progress=False)
    return {k: H.median(v) for k, v in times.items()}
