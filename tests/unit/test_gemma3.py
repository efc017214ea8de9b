"""gemma3 and sliding_window: the config (bad values), the local/global pattern, the window's reach,
the sliding KV cache (its size stays at the window while the logits equal the full-cache ones),
left padding and batched generation with it, GemmaRMSNorm, GeGLU and the pieces' clear errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from llmscratch.model.gemma3 import (
    GEMMA3_270M,
    GEMMA3_TINY,
    GeGLU,
    Gemma3Config,
    Gemma3KVCache,
    Gemma3Model,
    GemmaRMSNorm,
)
from llmscratch.model.generate import generate
from llmscratch.model.llama import RMSNorm
from llmscratch.model.qwen3 import QWEN3_TINY
from llmscratch.model.sliding_window import SlidingLayerKVCache, sliding_window_mask
from llmscratch.testing import assert_close

CFG = GEMMA3_TINY.with_(vocab_size=97)  # 7 layers: local x5, global, local; window 8


def model_for(cfg: Gemma3Config = CFG, seed: int = 0) -> Gemma3Model:
    torch.manual_seed(seed)
    model = Gemma3Model(cfg).eval()
    with torch.no_grad():  # norm weights start at 0 (a scale of 1); randomize them so each one counts
        for p in model.parameters():
            if p.dim() == 1:
                p.uniform_(-0.5, 0.5)
    return model


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(window=0), "window must be a positive integer, got 0"),
        (dict(window=-4), "window must be a positive integer, got -4"),
        (dict(n_kv_heads=3), "n_heads=4 is not a multiple of n_kv_heads=3"),
        (dict(global_every=0), "global_every must be a positive integer, got 0"),
        (dict(query_pre_attn_scalar=0), "query_pre_attn_scalar must be a positive integer, got 0"),
        (dict(local_rope_base=0.0), "local_rope_base must be positive, got 0.0"),
        (dict(head_dim=9), r"head_dim = 9 \(emb_dim / n_heads unless set\) must be even"),
    ],
)
def test_config_rejects_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        CFG.with_(**changes)


def test_model_needs_a_gemma3_config():
    with pytest.raises(TypeError, match="Gemma3Model needs a Gemma3Config, got Qwen3Config"):
        Gemma3Model(QWEN3_TINY)


def test_five_local_layers_then_one_global_with_their_own_rope_bases():
    kinds = "".join("L" if GEMMA3_270M.is_local(i) else "G" for i in range(GEMMA3_270M.n_layers))
    assert kinds == "LLLLLG" * 3
    assert (GEMMA3_270M.local_rope_base, GEMMA3_270M.rope_base) == (10_000.0, 1_000_000.0)
    assert [block.local for block in Gemma3Model(CFG).blocks] == [True] * 5 + [False, True]


def test_the_270m_preset_has_270m_parameters():
    with torch.device("meta"):
        n = sum(p.numel() for p in Gemma3Model(GEMMA3_270M).parameters())  # the tied head counted once
    embedding = GEMMA3_270M.vocab_size * GEMMA3_270M.emb_dim
    # 268M: the token table's 168M plus 100M in the blocks (the model card's "170M + 100M")
    assert (
        round(n / 1e6, -1) == 270
        and round(embedding / 1e6, -1) == 170
        and round((n - embedding) / 1e6) == 100
    )


def test_gemma_rmsnorm_scales_by_one_plus_weight():
    norm = GemmaRMSNorm(8)
    assert torch.equal(norm.weight, torch.zeros(8))
    x = torch.randn(3, 8)
    torch.testing.assert_close(norm(x), RMSNorm(8, eps=1e-6)(x))  # weight 0: a scale of exactly 1
    with torch.no_grad():
        norm.weight.fill_(0.5)
    torch.testing.assert_close(norm(x), 1.5 * RMSNorm(8, eps=1e-6)(x))


def test_geglu_is_swiglu_with_a_tanh_gelu_gate():
    ff = GeGLU(CFG)
    x = torch.randn(2, 3, CFG.emb_dim)
    expected = ff.down(F.gelu(ff.gate(x), approximate="tanh") * ff.up(x))
    torch.testing.assert_close(ff(x), expected, rtol=0, atol=0)


def test_sliding_window_mask_sees_the_last_window_tokens():
    mask = sliding_window_mask(past=0, n_new=6, window=3)
    assert mask.sum(dim=1).tolist() == [1, 2, 3, 3, 3, 3]  # itself and at most 2 before
    later = sliding_window_mask(past=10, n_new=2, window=3, start=8)  # queries 10, 11; keys 8..11
    assert later.int().tolist() == [[1, 1, 1, 0], [0, 1, 1, 1]]
    with pytest.raises(ValueError, match="window must be at least 1"):
        sliding_window_mask(past=0, n_new=2, window=0)
    with pytest.raises(ValueError, match="start must be between 0 and past=3, got 5"):
        sliding_window_mask(past=3, n_new=1, window=2, start=5)


def test_a_local_layer_cannot_see_past_its_window():
    """One local layer (global_every > n_layers): the last token's logits ignore a token ``window``
    positions back exactly, and change with the token just inside the window."""
    cfg = CFG.with_(n_layers=1, global_every=2, window=5)
    model = model_for(cfg)
    ids = torch.randint(0, cfg.vocab_size, (1, 12))
    last = model(ids)[:, -1]
    outside, inside = ids.clone(), ids.clone()
    outside[0, 11 - 5] = (ids[0, 11 - 5] + 1) % cfg.vocab_size
    inside[0, 11 - 4] = (ids[0, 11 - 4] + 1) % cfg.vocab_size
    assert torch.equal(model(outside)[:, -1], last)
    assert (model(inside)[:, -1] - last).abs().max() > 1e-4


def test_sliding_cache_stays_at_the_window_and_gives_the_full_cache_logits():
    """Token by token past four windows: every local layer holds ``window - 1`` positions once full,
    the global layer holds all of them, and the logits equal a plain forward pass (no cache at all)."""
    model = model_for()
    ids = torch.randint(0, CFG.vocab_size, (2, 40))
    full = model(ids)
    cache = model.new_kv_cache()
    steps = [model(ids[:, :3], cache)]
    for t in range(3, 40):
        steps.append(model(ids[:, t : t + 1], cache))
        for i, layer in enumerate(cache.layers):
            if CFG.is_local(i):
                assert layer.held == min(t + 1, CFG.window - 1) and tuple(layer.keys.shape[2:]) == (
                    CFG.window - 1 if t + 1 >= CFG.window else t + 1,
                    CFG.head_dim,
                )
            else:
                assert layer.length == t + 1
        assert len(cache) == t + 1
    assert_close(torch.cat(steps, dim=1), full, atol=1e-5, what="sliding-cache vs plain logits")


def test_chunks_after_the_window_has_slid_give_the_plain_logits():
    model = model_for()
    ids = torch.randint(0, CFG.vocab_size, (1, 37))
    cache = model.new_kv_cache()
    chunks = [model(ids[:, a:b], cache) for a, b in [(0, 11), (11, 14), (14, 30), (30, 37)]]
    assert_close(torch.cat(chunks, dim=1), model(ids), atol=1e-5, what="chunked vs plain logits")


def test_left_padding_gives_the_unpadded_logits_with_the_sliding_cache():
    model = model_for()
    ids = torch.randint(0, CFG.vocab_size, (1, 20))
    padded = torch.cat([torch.zeros(1, 5, dtype=torch.long), ids], dim=1)
    mask = torch.cat([torch.zeros(1, 5), torch.ones(1, 20)], dim=1)
    cache = model.new_kv_cache()
    first = model(padded[:, :15], cache, attention_mask=mask[:, :15])
    rest = [model(padded[:, t : t + 1], cache) for t in range(15, 25)]
    assert_close(torch.cat([first, *rest], dim=1)[:, 5:], model(ids), atol=1e-5, what="padded vs plain")


def test_batched_generation_with_padding_and_early_stops_equals_each_prompt_alone():
    """Rows of different lengths, left-padded; with ``eos_id`` finished rows leave the cache
    (``keep_rows``), which the sliding layers follow."""
    model = model_for()
    torch.manual_seed(1)
    prompts = [torch.randint(0, CFG.vocab_size, (n,)) for n in (12, 5, 9)]
    alone = [generate(model, p.unsqueeze(0), 14)[0, len(p) :] for p in prompts]
    eos = int(alone[0][3])  # the longest row stops after 4 tokens (the others may stop at it too): the
    # kept rows then drop the 3 columns that are padding in all of them, from every layer's cache
    width = max(len(p) for p in prompts)
    batch = torch.stack([F.pad(p, (width - len(p), 0)) for p in prompts])
    mask = torch.stack([F.pad(torch.ones(len(p)), (width - len(p), 0)) for p in prompts])
    out = generate(model, batch, 14, attention_mask=mask, eos_id=eos)[:, width:]
    for row, expected in zip(out.tolist(), alone):
        n = next((i + 1 for i, tok in enumerate(expected.tolist()) if tok == eos), len(expected))
        assert row[:n] == expected[:n].tolist() and set(row[n:]) <= {eos}


def test_the_cache_must_fit_the_model():
    model = model_for()
    with pytest.raises(ValueError, match="kv_cache layer 0 does not fit this Gemma 3 model"):
        model(torch.zeros(1, 3, dtype=torch.long), model_for(CFG.with_(window=4)).new_kv_cache())
    with pytest.raises(ValueError, match="kv_cache has 6 layers but the model has 7 blocks"):
        model(torch.zeros(1, 3, dtype=torch.long), Gemma3KVCache(CFG.with_(n_layers=6)))


def test_a_sliding_cache_can_only_be_cropped_to_everything_or_nothing():
    model = model_for()
    cache = model.new_kv_cache()
    model(torch.randint(0, CFG.vocab_size, (1, 12)), cache)
    with pytest.raises(ValueError, match="cannot crop a sliding-window cache to 5 of its 12 tokens"):
        cache.crop(5)
    cache.crop(12)
    assert len(cache) == 12
    cache.crop(0)
    assert len(cache) == 0 and all(getattr(layer, "held", 0) == 0 for layer in cache.layers)


def test_sliding_layer_cache_bad_input():
    with pytest.raises(ValueError, match="window must be at least 1"):
        SlidingLayerKVCache(0)
    layer = SlidingLayerKVCache(3)
    layer.append(torch.randn(2, 1, 4, 8), torch.randn(2, 1, 4, 8))
    assert (layer.length, layer.held, layer.start) == (4, 2, 2)
    with pytest.raises(ValueError, match="filled with batch size 2, got 1"):
        layer.append(torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8))
    with pytest.raises(ValueError, match="start must be between 0 and the 4 cached tokens, got 5"):
        layer.keep_rows(torch.tensor([0]), start=5)
    layer.keep_rows(torch.tensor([1]), start=3)  # drops position 2, keeps 3 (renumbered 0)
    assert (layer.length, layer.held, tuple(layer.keys.shape)) == (1, 1, (1, 1, 1, 8))
