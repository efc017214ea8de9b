"""Helpers shared by the Llama-family tests (unit and equivalence): written once, so the tests read alike.

- ``hf_sizes(cfg)``: our config's sizes under the names of transformers' configs and ``config.json``
  (written out here, independently of the package's reader, which the tests check);
- ``randomize_vectors(model)``: norms start at 1 (Gemma's at 0) and biases at 0, so a misplaced one
  would not show; draw them at random;
- ``assert_greedy_tokens_equal``, ``assert_cached_steps_equal_full_pass``, ``assert_loads_back``:
  the checks the mixture-of-experts equivalence tests (Qwen3-MoE, DeepSeek-V3) run against
  transformers, each with its own message.
"""

from __future__ import annotations

import torch

from llmscratch.model.generate import generate
from llmscratch.testing import assert_close

ATOL = 1e-4  # float32 logits of our model vs transformers'


def hf_sizes(cfg) -> dict[str, int]:
    """``cfg``'s sizes as transformers names them (the keys every Llama-family config shares)."""
    return dict(
        vocab_size=cfg.vocab_size,
        max_position_embeddings=cfg.context_length,
        hidden_size=cfg.emb_dim,
        num_attention_heads=cfg.n_heads,
        num_key_value_heads=cfg.n_kv_heads,
        num_hidden_layers=cfg.n_layers,
        intermediate_size=cfg.hidden_dim,
    )


def randomize_vectors(model: torch.nn.Module) -> None:
    """Every 1-d parameter at random, in place: norm scales ~ U(0.5, 1.5), anything else (biases) ~ N(0, 0.1)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.uniform_(0.5, 1.5) if "norm" in name else p.normal_(0, 0.1)


def assert_greedy_tokens_equal(ours, hf, vocab_size: int = 151, n_new: int = 12) -> None:
    """Greedy generation with our KV cache (``generate``) gives transformers' greedy tokens."""
    prompt = torch.randint(0, vocab_size, (1, 7), generator=torch.Generator().manual_seed(1))
    mine = generate(ours, prompt, n_new)  # use_cache=True: the prompt once, then one token per step
    with torch.no_grad():
        theirs = hf.generate(prompt, max_new_tokens=n_new, do_sample=False)
    assert mine.tolist() == theirs.tolist()


def assert_cached_steps_equal_full_pass(ours, hf, vocab_size: int = 151) -> None:
    """Prefill 10 tokens into our cache, then feed one token at a time: every step's logits equal
    transformers' full forward pass at that position (a check that does not depend on greedy text)."""
    ids = torch.randint(0, vocab_size, (2, 20), generator=torch.Generator().manual_seed(2))
    cache = ours.new_kv_cache()
    with torch.no_grad():
        steps = [ours(ids[:, :10], cache)] + [ours(ids[:, t : t + 1], cache) for t in range(10, 20)]
        assert_close(torch.cat(steps, dim=1), hf(ids).logits, atol=ATOL, what="cached steps vs transformers")
    assert len(cache) == 20


def assert_loads_back(fresh, hf_state: dict[str, torch.Tensor], hf, vocab_size: int = 151) -> None:
    """Our weights mapped back (``hf_state``) load into a ``fresh`` transformers model, which then
    gives ``hf``'s logits (a tied model's file has no ``lm_head.weight``)."""
    missing, unexpected = fresh.load_state_dict(hf_state, strict=False)
    assert unexpected == [] and set(missing) <= {"lm_head.weight"}, (missing, unexpected)
    ids = torch.randint(0, vocab_size, (1, 16))
    with torch.no_grad():
        assert_close(fresh(ids).logits, hf(ids).logits, atol=ATOL, what="ours -> transformers")
