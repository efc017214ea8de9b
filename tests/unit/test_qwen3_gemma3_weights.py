"""weights.qwen3 and weights.gemma3: the published config.json files read into our presets, the
refusals, the key maps through a safetensors folder, and the pinned download on a loopback hub.

Nothing touches the internet: the "hub" is an HTTP server on 127.0.0.1 serving a tiny random
model this test writes in Hugging Face's layout, at the pinned revision; ``huggingface_hub``
downloads it through the ``endpoint`` argument.
"""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from llmscratch.model.gemma3 import GEMMA3_270M, GEMMA3_TINY, Gemma3Model
from llmscratch.model.qwen3 import QWEN3_0_6B, QWEN3_TINY, Qwen3Model
from llmscratch.weights import gemma3, qwen3
from llmscratch.weights.hub import HubUnavailable
from tests.loopback_hub import loopback_hub
from tests.model_helpers import hf_sizes

# The published files' fields (transformers 4 wrote them: rope_theta, rope_local_base_freq).
QWEN3_0_6B_JSON = {
    "architectures": ["Qwen3ForCausalLM"],
    "attention_bias": False,
    "head_dim": 128,
    "hidden_act": "silu",
    "hidden_size": 1024,
    "intermediate_size": 3072,
    "max_position_embeddings": 40960,
    "model_type": "qwen3",
    "num_attention_heads": 16,
    "num_hidden_layers": 28,
    "num_key_value_heads": 8,
    "rms_norm_eps": 1e-06,
    "rope_scaling": None,
    "rope_theta": 1000000,
    "sliding_window": None,
    "tie_word_embeddings": True,
    "use_sliding_window": False,
    "vocab_size": 151936,
}
GEMMA3_270M_JSON = {
    "architectures": ["Gemma3ForCausalLM"],
    "attention_bias": False,
    "attn_logit_softcapping": None,
    "final_logit_softcapping": None,
    "head_dim": 256,
    "hidden_activation": "gelu_pytorch_tanh",
    "hidden_size": 640,
    "intermediate_size": 2048,
    "layer_types": ["full_attention" if (i + 1) % 6 == 0 else "sliding_attention" for i in range(18)],
    "max_position_embeddings": 32768,
    "model_type": "gemma3_text",
    "num_attention_heads": 4,
    "num_hidden_layers": 18,
    "num_key_value_heads": 1,
    "query_pre_attn_scalar": 256,
    "rms_norm_eps": 1e-06,
    "rope_local_base_freq": 10000.0,
    "rope_scaling": None,
    "rope_theta": 1000000.0,
    "sliding_window": 512,
    "use_bidirectional_attention": False,
    "vocab_size": 262144,
}


def tiny_json(published: dict, cfg) -> dict:
    """A config.json for a tiny model, in the published files' style."""
    out = dict(published)
    out.update(
        **hf_sizes(cfg),
        head_dim=cfg.head_dim,
        rope_theta=cfg.rope_base,
        tie_word_embeddings=cfg.tie_embeddings,
    )
    if "layer_types" in out:
        out.update(
            layer_types=[
                "sliding_attention" if cfg.is_local(i) else "full_attention" for i in range(cfg.n_layers)
            ],
            sliding_window=cfg.window,
            rope_local_base_freq=cfg.local_rope_base,
            query_pre_attn_scalar=cfg.query_pre_attn_scalar,
        )
    return out


FAMILIES = {
    "qwen3": (qwen3, QWEN3_0_6B_JSON, QWEN3_TINY.with_(tie_embeddings=False), Qwen3Model, "0.6B"),
    "gemma3": (gemma3, GEMMA3_270M_JSON, GEMMA3_TINY, Gemma3Model, "270m"),
}


def random_model(model_class, cfg):
    torch.manual_seed(0)
    model = model_class(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 1:
                p.uniform_(-0.5, 0.5)
    return model


def test_the_published_configs_read_into_our_presets():
    assert qwen3.qwen3_config_from_hf(QWEN3_0_6B_JSON) == QWEN3_0_6B
    assert gemma3.gemma3_config_from_hf(GEMMA3_270M_JSON) == GEMMA3_270M


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(final_logit_softcapping=30.0), "final_logit_softcapping=30.0; Gemma3Model has no soft-capping"),
        (dict(attn_logit_softcapping=50.0), "attn_logit_softcapping=50.0; Gemma3Model has no soft-capping"),
        (dict(use_bidirectional_attention=True), "bidirectional attention"),
        (dict(rope_scaling={"rope_type": "linear", "factor": 8.0}), "'linear' RoPE scaling"),
        (dict(hidden_activation="gelu"), "'gelu'; Gemma3Model's GeGLU uses gelu_pytorch_tanh"),
        (dict(layer_types=["sliding_attention", "full_attention"] * 9), None),  # a valid other pattern
        (
            dict(layer_types=["full_attention"] + ["sliding_attention"] * 17),
            "are not \\(k - 1\\) local layers",
        ),
        (dict(model_type="gemma3", text_config={}), "multimodal Gemma 3"),
        (dict(model_type="gemma2"), "'gemma2' model, not 'gemma3_text'"),
    ],
)
def test_gemma3_config_refusals(changes, match):
    hf_config = dict(GEMMA3_270M_JSON, **changes)
    if match is None:
        assert gemma3.gemma3_config_from_hf(hf_config).global_every == 2
        return
    with pytest.raises(ValueError, match=match):
        gemma3.gemma3_config_from_hf(hf_config)


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(use_sliding_window=True), "sliding-window layers"),
        (dict(attention_bias=True), "attention biases"),
        (dict(rope_scaling={"rope_type": "yarn", "factor": 4.0}), "'yarn' RoPE scaling"),
        (dict(rope_theta=None), "no RoPE base"),
        (dict(model_type="qwen3_moe"), "'qwen3_moe' model, not 'qwen3'"),
    ],
)
def test_qwen3_config_refusals(changes, match):
    with pytest.raises(ValueError, match=match):
        qwen3.qwen3_config_from_hf(dict(QWEN3_0_6B_JSON, **changes))


@pytest.mark.parametrize("family", FAMILIES)
def test_a_hugging_face_folder_loads_with_equal_logits(tmp_path, family):
    module, published, cfg, model_class, _ = FAMILIES[family]
    model = random_model(model_class, cfg)
    hf_state = getattr(module, f"{family}_to_hf")(model)
    assert "model.layers.0.self_attn.q_norm.weight" in hf_state
    assert ("lm_head.weight" in hf_state) != cfg.tie_embeddings
    save_file(hf_state, tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(json.dumps(tiny_json(published, cfg)))
    loaded = getattr(module, f"load_hf_{family}")(tmp_path)
    assert type(loaded) is model_class and loaded.cfg == cfg and not loaded.training
    ids = torch.randint(0, cfg.vocab_size, (1, 20))
    assert torch.equal(loaded(ids), model(ids))


@pytest.mark.parametrize("family", FAMILIES)
def test_a_missing_or_extra_tensor_is_named(family):
    module, _, cfg, model_class, _ = FAMILIES[family]
    hf_state = getattr(module, f"{family}_to_hf")(random_model(model_class, cfg))
    from_hf = getattr(module, f"{family}_from_hf")
    name = "model.layers.1.self_attn.k_norm.weight"
    with pytest.raises(KeyError, match=f"the HuggingFace weights have no '{name}'"):
        from_hf({k: v for k, v in hf_state.items() if k != name}, cfg)
    with pytest.raises(KeyError, match="no place for: \\['model.layers.9.mlp.up_proj.weight'\\]"):
        from_hf(dict(hf_state, **{"model.layers.9.mlp.up_proj.weight": torch.zeros(1)}), cfg)


def test_unknown_sizes_and_offline_mode_say_so(monkeypatch):
    with pytest.raises(ValueError, match="unknown Qwen3 size '7B'; choose one of 0.6B"):
        qwen3.load_qwen3("7B")
    with pytest.raises(ValueError, match="unknown Gemma 3 size '1b'; choose one of 270m"):
        gemma3.load_gemma3("1b")
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "1")
    with pytest.raises(
        HubUnavailable, match=r"Qwen3-0.6B needs a download .*\(Qwen/Qwen3-0.6B\) and offline mode is on"
    ):
        qwen3.load_qwen3("0.6B")


@pytest.mark.parametrize("family", FAMILIES)
def test_the_pinned_checkpoint_downloads_from_a_loopback_hub(tmp_path, monkeypatch, family):
    pytest.importorskip("huggingface_hub")
    module, published, cfg, model_class, size = FAMILIES[family]
    model = random_model(model_class, cfg)
    save_file(getattr(module, f"{family}_to_hf")(model), tmp_path / "model.safetensors")
    repo, revision = getattr(module, f"{family.upper()}_REPOS")[size]
    files = {
        f"/{repo}/resolve/{revision}/config.json": json.dumps(tiny_json(published, cfg)).encode(),
        f"/{repo}/resolve/{revision}/model.safetensors": (tmp_path / "model.safetensors").read_bytes(),
    }
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "0")
    load = getattr(module, f"load_{family}")
    with loopback_hub(files) as served:
        loaded = load(size, cache=tmp_path / "cache", endpoint=served.endpoint)
    assert any(r.endswith(f"{revision}/model.safetensors") for r in served.requests), (
        "the pinned revision is fetched"
    )
    ids = torch.randint(0, cfg.vocab_size, (1, 20))
    assert torch.equal(loaded(ids), model(ids))
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "1")  # now cached: loads offline, without the server
    assert torch.equal(load(size, cache=tmp_path / "cache")(ids), model(ids))
