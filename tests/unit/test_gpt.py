"""model: GPTModel's outputs, causality, weight tying, initialization, parameter counts, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from llmscratch.model.config import GPT2_124M, GPT2_355M, GPT2_774M, GPT2_1558M, TINY, GPTConfig
from llmscratch.model.gpt import GPTModel, count_parameters, parameter_memory_mib

CFG = TINY.with_(vocab_size=97, context_length=16, emb_dim=32, n_heads=4, drop_rate=0.0)


def expected_parameter_count(cfg: GPTConfig) -> int:
    """Counted by hand: embeddings, n_layers blocks, final norm, and the head unless it is tied."""
    C, V = cfg.emb_dim, cfg.vocab_size
    attention = 3 * C * C + (3 * C if cfg.qkv_bias else 0) + C * C + C  # q, k, v (+ biases), out_proj
    feed_forward = C * 4 * C + 4 * C + 4 * C * C + C  # fc and proj, with biases
    norms = 2 * 2 * C  # two LayerNorms, weight and bias each
    head = 0 if cfg.tie_embeddings else V * C
    return V * C + cfg.context_length * C + cfg.n_layers * (attention + feed_forward + norms) + 2 * C + head


def meta_model(cfg: GPTConfig) -> GPTModel:
    with torch.device("meta"):  # shapes only, no memory: even the 1558M model is instant
        return GPTModel(cfg)


def test_logits_shape_and_last_only():
    torch.manual_seed(0)
    model = GPTModel(CFG).eval()
    token_ids = torch.randint(0, CFG.vocab_size, (3, 9))
    logits = model(token_ids)
    assert logits.shape == (3, 9, CFG.vocab_size)
    torch.testing.assert_close(model(token_ids, last_only=True), logits[:, -1:], atol=1e-6, rtol=0)


def test_model_is_causal():
    torch.manual_seed(0)
    model = GPTModel(CFG).eval()
    token_ids = torch.randint(0, CFG.vocab_size, (1, 10))
    changed = token_ids.clone()
    changed[0, 7] = (changed[0, 7] + 1) % CFG.vocab_size
    a, b = model(token_ids), model(changed)
    assert torch.equal(a[:, :7], b[:, :7])
    assert not torch.equal(a[:, 7:], b[:, 7:])


def test_tied_head_is_the_token_table():
    tied, untied = GPTModel(CFG), GPTModel(CFG.with_(tie_embeddings=False))
    assert tied.out_head.weight is tied.emb.tok_emb.weight
    assert untied.out_head.weight is not untied.emb.tok_emb.weight
    assert count_parameters(untied) - count_parameters(tied) == CFG.vocab_size * CFG.emb_dim


@pytest.mark.parametrize("cfg", [CFG, CFG.with_(qkv_bias=False, tie_embeddings=False), GPT2_124M, GPT2_1558M])
def test_parameter_count_matches_the_hand_count(cfg):
    assert count_parameters(meta_model(cfg)) == expected_parameter_count(cfg)


@pytest.mark.parametrize(
    "cfg, millions", [(GPT2_124M, 124), (GPT2_355M, 355), (GPT2_774M, 774), (GPT2_1558M, 1558)]
)
def test_gpt2_presets_have_their_published_size(cfg, millions):
    """GPT-2's sizes are counted with the output head tied to the token embedding."""
    assert round(count_parameters(meta_model(cfg)) / 1e6) == millions


def test_gpt2_small_exact_counts_tied_and_untied():
    assert count_parameters(meta_model(GPT2_124M)) == 124_439_808
    assert count_parameters(meta_model(GPT2_124M.with_(tie_embeddings=False))) == 163_037_184


def test_parameter_memory_is_four_bytes_each_in_float32_and_two_in_bfloat16():
    model = GPTModel(CFG)
    assert parameter_memory_mib(model) == count_parameters(model) * 4 / 2**20
    assert parameter_memory_mib(model.to(torch.bfloat16)) == count_parameters(model) * 2 / 2**20


def test_count_trainable_only():
    model = GPTModel(CFG)
    model.emb.requires_grad_(False)
    frozen = sum(p.numel() for p in model.emb.parameters())
    assert count_parameters(model, trainable_only=True) == count_parameters(model) - frozen


def test_gpt2_initialization():
    torch.manual_seed(0)
    cfg = CFG.with_(n_layers=8, emb_dim=256, vocab_size=4000)
    model = GPTModel(cfg)
    assert abs(model.emb.tok_emb.weight.std().item() - 0.02) < 0.001
    assert abs(model.blocks[0].ff.fc.weight.std().item() - 0.02) < 0.001
    assert abs(model.blocks[0].ff.proj.weight.std().item() - 0.02 / math.sqrt(2 * 8)) < 0.0005
    assert abs(model.blocks[3].att.out_proj.weight.std().item() - 0.02 / math.sqrt(2 * 8)) < 0.0005
    assert all(not b.detach().any() for name, b in model.named_parameters() if name.endswith("bias"))
    assert torch.equal(model.final_norm.weight, torch.ones(256))


def test_torch_initialization_is_each_layers_pytorch_default():
    """``init_weights("torch")``: embeddings N(0, 1), Linear weights and biases uniform in
    +-1/sqrt(fan_in) (std 1/sqrt(3 fan_in)), norms the identity; ``init_weights()`` restores GPT-2's."""
    torch.manual_seed(0)
    cfg = CFG.with_(n_layers=2, emb_dim=256, vocab_size=4000, tie_embeddings=False)
    model = GPTModel(cfg)
    (
        model.final_norm.weight.data.fill_(3.0),
        model.blocks[1].norm2.bias.data.fill_(3.0),
    )  # not the identity any more
    model.init_weights("torch")
    assert abs(model.emb.tok_emb.weight.std().item() - 1.0) < 0.01
    assert abs(model.emb.pos_emb.weight.std().item() - 1.0) < 0.1
    for linear, fan_in in (
        (model.blocks[0].ff.fc, 256),
        (model.blocks[1].ff.proj, 1024),
        (model.out_head, 256),
    ):
        bound = 1 / math.sqrt(fan_in)
        assert linear.weight.abs().max().item() <= bound
        assert abs(linear.weight.std().item() - bound / math.sqrt(3)) < 0.05 * bound
    assert (
        model.blocks[0].ff.fc.bias.abs().max().item() <= 1 / math.sqrt(256)
        and model.blocks[0].ff.fc.bias.any()
    )
    assert torch.equal(model.final_norm.weight, torch.ones(256)) and not model.blocks[1].norm2.bias.any()
    model.init_weights()
    assert abs(model.emb.tok_emb.weight.std().item() - 0.02) < 0.001 and not model.blocks[0].ff.fc.bias.any()


def test_torch_initialization_with_a_tied_head_gives_the_table_the_heads_init():
    torch.manual_seed(0)
    model = GPTModel(CFG.with_(emb_dim=256, vocab_size=4000))
    model.init_weights("torch")
    assert model.out_head.weight is model.emb.tok_emb.weight
    assert model.emb.tok_emb.weight.abs().max().item() <= 1 / math.sqrt(256)


def test_unknown_init_scheme_is_refused():
    with pytest.raises(ValueError, match="scheme must be 'gpt2' or 'torch'"):
        GPTModel(CFG).init_weights("xavier")


def test_untrained_model_predicts_nearly_uniformly():
    """With GPT-2's init the first loss is close to ln(vocab_size), the loss of a uniform guess."""
    torch.manual_seed(0)
    model = GPTModel(CFG.with_(vocab_size=4000)).eval()
    token_ids = torch.randint(0, 4000, (4, 16))
    logits = model(token_ids)
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), token_ids[:, 1:].flatten())
    assert abs(loss.item() - math.log(4000)) < 0.05


def test_dict_config_is_refused():
    with pytest.raises(TypeError, match=r"needs a GPTConfig, got dict; for a dict use GPTConfig\(\*\*d\)"):
        GPTModel({"vocab_size": 10})


@pytest.mark.parametrize(
    "token_ids, message",
    [
        (torch.tensor([[1, 97]]), r"token id 97 is outside the vocabulary \[0, 97\)"),
        (torch.tensor([[-3, 1]]), r"token id -3 is outside the vocabulary"),
        (torch.zeros(1, 17, dtype=torch.long), "input has 17 tokens but context_length is 16"),
        (torch.zeros(17, dtype=torch.long), r"\(batch, seq_len\) tensor, got \(17,\)"),
    ],
)
def test_bad_input(token_ids, message):
    with pytest.raises(ValueError, match=message):
        GPTModel(CFG)(token_ids)


def test_emb_dim_not_divisible_by_n_heads_is_refused_before_building():
    with pytest.raises(ValueError, match="emb_dim=30 is not divisible by n_heads=4"):
        GPTModel(CFG.with_(emb_dim=30))


# --- attention implementations and padded batches --------------------------------------------------

IMPLS = ["sdpa", "teaching"]


def twin_models(cfg: GPTConfig = CFG) -> tuple[GPTModel, GPTModel]:
    """The same weights under both attention implementations (one state dict loads into either)."""
    torch.manual_seed(0)
    sdpa = GPTModel(cfg.with_(attn_impl="sdpa"))
    teaching = GPTModel(cfg.with_(attn_impl="teaching"))
    teaching.load_state_dict(sdpa.state_dict(), strict=True)
    return sdpa, teaching


def test_default_attention_is_sdpa_and_state_dicts_are_interchangeable():
    sdpa, teaching = twin_models()
    assert GPTConfig().attn_impl == "sdpa" and {b.att.impl for b in sdpa.blocks} == {"sdpa"}
    assert {b.att.impl for b in teaching.blocks} == {"teaching"}
    assert sdpa.state_dict().keys() == teaching.state_dict().keys()
    assert "blocks.0.att.W_query.weight" in sdpa.state_dict()


@pytest.mark.parametrize("train", [False, True])
def test_sdpa_equals_the_teaching_path(train):
    """Outputs and gradients agree in eval mode and in train mode with drop_rate=0."""
    sdpa, teaching = twin_models()
    sdpa.train(train), teaching.train(train)
    token_ids = torch.randint(0, CFG.vocab_size, (3, 11))
    a, b = sdpa(token_ids), teaching(token_ids)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    a.square().mean().backward(), b.square().mean().backward()
    for (name, p), q in zip(sdpa.named_parameters(), teaching.parameters()):
        torch.testing.assert_close(p.grad, q.grad, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("chunks", [[11], [4, 1, 1, 5], [6, 5], [1] * 11])
def test_sdpa_equals_the_teaching_path_with_the_cache(chunks):
    sdpa, teaching = (m.eval() for m in twin_models())
    token_ids = torch.randint(0, CFG.vocab_size, (2, sum(chunks)))
    full = teaching(token_ids)
    for model in (sdpa, teaching):
        cache, outs, start = model.new_kv_cache(), [], 0
        for n in chunks:
            outs.append(model(token_ids[:, start : start + n], cache))
            start += n
        torch.testing.assert_close(torch.cat(outs, dim=1), full, atol=1e-5, rtol=0)


def test_the_model_holds_one_causal_mask_for_all_blocks():
    model = GPTModel(CFG.with_(attn_impl="teaching", n_layers=3))
    masks = [name for name, _ in model.named_buffers() if "mask" in name]
    assert masks == ["causal_mask"] and "causal_mask" not in model.state_dict()


def left_pad(rows: list[torch.Tensor], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack 1-d id tensors of different lengths, padding on the left; returns ids and the 0/1 mask."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r) :], mask[i, width - len(r) :] = r, 1
    return ids, mask


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("use_cache", [False, True])
def test_left_padded_rows_get_their_unpadded_logits(impl, use_cache):
    torch.manual_seed(0)
    model = GPTModel(CFG.with_(attn_impl=impl)).eval()
    rows = [torch.randint(0, CFG.vocab_size, (n,)) for n in (9, 4, 1, 7)]
    ids, mask = left_pad(rows, pad_id=5)
    if use_cache:  # the prompt, then two more tokens one at a time: the cache remembers the padding
        cache = model.new_kv_cache()
        extra = torch.randint(0, CFG.vocab_size, (len(rows), 2))
        logits = torch.cat(
            [model(ids, cache, attention_mask=mask), model(extra[:, :1], cache), model(extra[:, 1:], cache)],
            dim=1,
        )
        rows = [torch.cat([r, e]) for r, e in zip(rows, extra)]
        assert torch.equal(
            cache.attention_mask, torch.cat([mask.bool(), torch.ones(len(rows), 2, dtype=torch.bool)], dim=1)
        )
    else:
        logits = model(ids, attention_mask=mask)
    assert torch.isfinite(logits).all()  # padding query rows too
    for i, row in enumerate(rows):
        alone = model(row.unsqueeze(0))  # (1, n, V)
        torch.testing.assert_close(logits[i : i + 1, -len(row) :], alone, atol=1e-5, rtol=0)


@pytest.mark.parametrize("impl", IMPLS)
def test_a_mask_of_ones_changes_nothing(impl):
    torch.manual_seed(0)
    model = GPTModel(CFG.with_(attn_impl=impl)).eval()
    ids = torch.randint(0, CFG.vocab_size, (2, 6))
    torch.testing.assert_close(model(ids, attention_mask=torch.ones_like(ids)), model(ids), atol=1e-6, rtol=0)


def test_attention_mask_must_match_the_new_tokens():
    model = GPTModel(CFG)
    with pytest.raises(
        ValueError, match=r"attention_mask must have the shape of token_ids \(1, 3\), got \(1, 4\)"
    ):
        model(torch.zeros(1, 3, dtype=torch.long), attention_mask=torch.ones(1, 4))


def test_unknown_attn_impl_is_refused():
    with pytest.raises(ValueError, match=r"attn_impl must be one of \('sdpa', 'teaching'\), got 'flash'"):
        CFG.with_(attn_impl="flash")


def test_an_empty_input_gets_a_clear_error():
    with pytest.raises(
        ValueError, match=r"token_ids is empty \(shape \(1, 0\)\): give at least one token id per row"
    ):
        GPTModel(CFG)(torch.zeros(1, 0, dtype=torch.long))


def test_a_float_input_gets_a_clear_error():
    with pytest.raises(
        TypeError, match=r"token_ids must hold integer token ids \(torch.long\), got torch.float32"
    ):
        GPTModel(CFG)(torch.zeros(1, 3))
