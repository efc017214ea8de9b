"""Our GPT equals HuggingFace transformers' GPT-2, built from a small config with random weights.

Nothing is downloaded: ``GPT2LMHeadModel(GPT2Config(...))`` initializes its own random weights.
We copy them into ``GPTModel`` through ``weights.load_gpt2_state_dict`` (HF -> ours) and the other
way through ``weights.to_gpt2_state_dict`` (ours -> HF), and require the logits to agree within
1e-4 in float32 (the two differ only in the order of floating-point operations). The building
blocks are checked against their PyTorch and HF counterparts, and greedy generation (with and
without our KV cache) against ``GPT2LMHeadModel.generate``, logits step by step; a deliberately
broken weight map must fail these comparisons.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from llmscratch.constants import GPT2_VOCAB_SIZE
from llmscratch.model.block import GELU, LayerNorm
from llmscratch.model.config import GPTConfig
from llmscratch.model.generate import generate
from llmscratch.model.gpt import GPTModel
from llmscratch.testing import assert_close
from llmscratch.weights.gpt2 import config_from_hf, hf_config_kwargs, load_gpt2_state_dict, to_gpt2_state_dict

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.needs_transformers

ATOL = 1e-4  # float32; the observed differences are around 1e-6 (printed by each test)

CONFIGS = {
    "small": GPTConfig(vocab_size=211, context_length=32, emb_dim=48, n_heads=4, n_layers=3, drop_rate=0.0),
    "untied": GPTConfig(
        vocab_size=211,
        context_length=32,
        emb_dim=48,
        n_heads=6,
        n_layers=2,
        drop_rate=0.0,
        tie_embeddings=False,
    ),
    "gpt2-width": GPTConfig(
        vocab_size=GPT2_VOCAB_SIZE, context_length=64, emb_dim=768, n_heads=12, n_layers=2, drop_rate=0.0
    ),
}


def hf_gpt2(cfg: GPTConfig, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**hf_config_kwargs(cfg))).eval()
    with torch.no_grad():  # HF initializes biases and norms to 0/1; randomize them so they are tested too
        for _name, param in model.named_parameters():
            if param.dim() == 1:
                param.add_(0.1 * torch.randn_like(param))
    return model


def random_ids(cfg: GPTConfig, seed: int, batch: int = 2) -> torch.Tensor:
    return torch.randint(
        0, cfg.vocab_size, (batch, cfg.context_length), generator=torch.Generator().manual_seed(seed)
    )


@pytest.mark.parametrize("name", CONFIGS)
def test_hf_weights_into_ours_give_the_same_logits(name):
    cfg = CONFIGS[name]
    hf = hf_gpt2(cfg, seed=0)
    assert config_from_hf(hf.config) == cfg
    ours = load_gpt2_state_dict(GPTModel(cfg).eval(), hf.state_dict())
    token_ids = random_ids(cfg, seed=1)
    with torch.no_grad():
        diff = assert_close(
            ours(token_ids), hf(token_ids).logits, atol=ATOL, what=f"logits ({name}, HF -> ours)"
        )
    print(f"{name}: HF -> ours, max |logit difference| = {diff:.2e}")


@pytest.mark.parametrize("name", CONFIGS)
def test_our_weights_exported_to_hf_give_the_same_logits(name):
    cfg = CONFIGS[name]
    torch.manual_seed(2)
    ours = GPTModel(cfg).eval()
    with torch.no_grad():
        for _, param in ours.named_parameters():
            if param.dim() == 1:
                param.add_(0.1 * torch.randn_like(param))
    hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(**hf_config_kwargs(cfg))).eval()
    hf.load_state_dict(to_gpt2_state_dict(ours), strict=True)
    token_ids = random_ids(cfg, seed=3)
    with torch.no_grad():
        diff = assert_close(
            hf(token_ids).logits, ours(token_ids), atol=ATOL, what=f"logits ({name}, ours -> HF)"
        )
    print(f"{name}: ours -> HF, max |logit difference| = {diff:.2e}")


def test_bias_free_model_exports_exactly():
    cfg = CONFIGS["small"].with_(qkv_bias=False)
    torch.manual_seed(4)
    ours = GPTModel(cfg).eval()
    hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(**hf_config_kwargs(cfg))).eval()
    hf.load_state_dict(to_gpt2_state_dict(ours), strict=True)
    token_ids = random_ids(cfg, seed=5)
    with torch.no_grad():
        assert_close(
            hf(token_ids).logits, ours(token_ids), atol=ATOL, what="logits (qkv_bias=False, ours -> HF)"
        )


@pytest.mark.parametrize("use_cache", [False, True])
def test_greedy_generation_equals_transformers(use_cache):
    """Same tokens, and the same logits at every step (equal tokens alone prove little: a random-init
    model's logits are nearly flat, so even a broken weight map can pick the same argmax)."""
    cfg = CONFIGS["small"]
    hf = hf_gpt2(cfg, seed=6)
    ours = load_gpt2_state_dict(GPTModel(cfg), hf.state_dict()).eval()
    prompt = random_ids(cfg, seed=7)[:, :5]
    out = hf.generate(
        prompt,
        attention_mask=torch.ones_like(prompt),
        max_new_tokens=20,
        min_new_tokens=20,
        do_sample=False,
        pad_token_id=0,
        return_dict_in_generate=True,
        output_logits=True,
    )
    assert torch.equal(generate(ours, prompt, 20, use_cache=use_cache), out.sequences)
    expected = torch.stack(out.logits, dim=1)  # 20 x (B, V) -> (B, 20, V): HF's logits at each step
    with torch.no_grad():
        if use_cache:  # the prompt, then one token at a time through our cache
            cache = ours.new_kv_cache()
            steps = [ours(prompt, cache, last_only=True)]
            steps += [ours(out.sequences[:, t : t + 1], cache) for t in range(5, 5 + 19)]
            actual = torch.cat(steps, dim=1)  # (B, 20, V)
        else:
            actual = ours(out.sequences[:, :-1])[:, 4:]  # logits that chose tokens 5 .. 24
    assert_close(actual, expected, atol=ATOL, what="per-step logits while generating")


def test_a_broken_weight_map_is_caught(monkeypatch):
    """The test above fails for a subtly broken map: attn.c_proj left untransposed (a square matrix,
    so every shape check passes)."""
    import llmscratch.weights.gpt2 as weights

    correct = weights.key_map
    monkeypatch.setattr(
        weights,
        "key_map",
        lambda n: [(h, o, t and not h.endswith("attn.c_proj.weight")) for h, o, t in correct(n)],
    )
    with pytest.raises(AssertionError, match="per-step logits while generating differ"):
        test_greedy_generation_equals_transformers(use_cache=True)
    with pytest.raises(AssertionError, match=r"logits \(small, HF -> ours\) differ"):
        test_hf_weights_into_ours_give_the_same_logits("small")


def test_layernorm_equals_nn_layernorm():
    torch.manual_seed(8)
    reference = nn.LayerNorm(64, eps=1e-5)
    with torch.no_grad():
        reference.weight.normal_(), reference.bias.normal_()
    ours = LayerNorm(64)
    ours.load_state_dict(reference.state_dict())  # same parameter names: interchangeable
    x = 2.0 + 3.0 * torch.randn(4, 10, 64)
    assert_close(ours(x), reference(x), atol=1e-5, what="LayerNorm vs nn.LayerNorm")


def test_gelu_equals_torch_and_hf_tanh_gelu():
    x = torch.linspace(-8, 8, 4001)
    assert_close(
        GELU()(x), nn.GELU(approximate="tanh")(x), atol=1e-6, what="GELU vs nn.GELU(approximate='tanh')"
    )
    from transformers.activations import ACT2FN

    assert_close(GELU()(x), ACT2FN["gelu_new"](x), atol=1e-6, what="GELU vs transformers' gelu_new")
