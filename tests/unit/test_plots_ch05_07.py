"""Chapters 5-7's figures: the top-k/top-p cutoff, a padded batch under the causal mask, trainable
parameters, LoRA's update, the prompt template and collate's ignore index. Each runs on real
package objects (a tiny model, GPT-2's offline tokenizer, the real collate) and holds the data it
claims; inconsistent input gets one clear error."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from llmscratch import plots  # noqa: E402
from llmscratch.constants import IGNORE_INDEX  # noqa: E402
from llmscratch.finetune.classify import add_classification_head, last_token_index  # noqa: E402
from llmscratch.finetune.classify_data import pad_batch  # noqa: E402
from llmscratch.finetune.instruct import Encoded, collate  # noqa: E402
from llmscratch.finetune.prompts import format_prompt  # noqa: E402
from llmscratch.model import lora  # noqa: E402
from llmscratch.model.config import TINY  # noqa: E402
from llmscratch.model.gpt import GPTModel  # noqa: E402
from llmscratch.model.llama import LLAMA_TINY, LlamaModel  # noqa: E402
from llmscratch.text.gpt2 import GPT2Tokenizer  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def tok():
    return GPT2Tokenizer()


def _patches(fig, gid: str) -> list:
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


# ---------------------------------------------------------------------------------------------
# Chapter 5: top-k and top-p


def test_sampling_cutoff_marks_what_each_rule_keeps():
    probs = torch.tensor([0.5, 0.05, 0.3, 0.1, 0.05])  # sorted: 0.5, 0.3, 0.1, 0.05, 0.05
    fig = plots.plot_sampling_cutoff(probs.log(), top_k=2, top_p=0.75, n=5)
    ax, cum_ax = fig.axes
    assert np.allclose([b.get_height() for b in ax.patches], [0.5, 0.3, 0.1, 0.05, 0.05], atol=1e-6)
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["0", "2", "3"]  # ids, most likely first
    blue = [b for b in ax.patches if b.get_facecolor()[:3] == matplotlib.colors.to_rgb("#3182bd")]
    assert len(blue) == 2
    (dots,) = [c for c in cum_ax.collections if c.get_gid() == "top_p_kept"]
    assert len(dots.get_offsets()) == 2  # 0.5 + 0.3 reaches 0.75: two tokens
    assert "keeps 2 tokens" in ax.get_title() and "top-p = 0.75 keeps 2" in ax.get_title()


@pytest.mark.filterwarnings("ignore:Glyph.*missing from font")  # a random model ranks any token high
def test_sampling_cutoff_on_a_model_distribution(tok):
    torch.manual_seed(0)
    model = GPTModel(TINY).eval()  # GPT-2's vocabulary, random weights
    with torch.no_grad():
        last_logits = model(torch.tensor([tok.encode("The clock")]))[:, -1, :]  # (1, V)
    probs = torch.softmax(last_logits[0] / 0.5, dim=-1).sort(descending=True).values
    for top_p, n in ((0.05, 30), (0.5, 12)):
        fig = plots.plot_sampling_cutoff(last_logits, decode=tok.decode, top_p=top_p, n=n, temperature=0.5)
        reach = int((probs.cumsum(0) < top_p).sum()) + 1  # tokens until the cumulative probability reaches p
        (dots,) = [c for c in fig.axes[1].collections if c.get_gid() == "top_p_kept"]
        assert len(dots.get_offsets()) == min(reach, n)
        assert f"keeps {reach:,}" in fig.axes[0].get_title()
        assert ("more than the" in fig.axes[0].get_title()) == (reach > n)
        plt.close(fig)


@pytest.mark.parametrize(
    ("logits", "kwargs", "message"),
    [
        (torch.zeros(2, 5), {}, r"one row"),
        (torch.zeros(5), {"top_k": 0}, "top_k"),
        (torch.zeros(5), {"top_p": 1.5}, "top_p"),
        (torch.zeros(5), {"temperature": 0.0}, "temperature"),
        (torch.zeros(5), {"n": 0}, "n must be"),
    ],
)
def test_sampling_cutoff_rejects_bad_input(logits, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plots.plot_sampling_cutoff(logits, **kwargs)


# ---------------------------------------------------------------------------------------------
# Chapter 6: padding, trainable parameters, LoRA


def test_padded_batch_marks_last_real_token_and_padding_seen(tok):
    encoded = [tok.encode(t) for t in ["Are we still on for lunch?", "WINNER!! Claim your prize now", "ok"]]
    token_ids, mask = pad_batch(encoded, tok.pad_id)
    T = token_ids.shape[1]
    fig = plots.plot_padded_batch_mask(token_ids, mask, decode=tok.decode)
    left, right = fig.axes
    cells = sorted((p for p in left.patches if p.get_gid() is None), key=lambda p: (-p.get_y(), p.get_x()))
    width = cells[1].get_x() - cells[0].get_x()
    read = sorted(_patches(fig, "last_real"), key=lambda p: -p.get_y())
    assert [round(p.get_x() / width) for p in read] == last_token_index(mask).tolist()
    assert len(_patches(fig, "last_position")) == int((mask[:, -1] == 0).sum())
    row = int(mask.sum(1).argmin())  # default: the row with the most padding
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))  # (query, key)
    pads_seen = int((causal & (mask[row] == 0)[None, :]).sum())
    orange = [p for p in right.patches if p.get_facecolor()[:3] == matplotlib.colors.to_rgb("#fdae6b")]
    assert len(orange) == pads_seen
    assert "ok" in [t.get_text() for t in right.get_xticklabels()]
    assert "pad" in _texts(fig) and "right-padded" in left.get_title()


def test_padded_batch_left_padding_and_errors(tok):
    ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=0, padding_side="left")
    fig = plots.plot_padded_batch_mask(ids, mask)
    assert "left-padded" in fig.axes[0].get_title() and not _patches(fig, "last_position")
    assert any(t.startswith("Left padding") for t in (x.get_text() for x in fig.texts))
    fig = plots.plot_padded_batch_mask(torch.tensor([[5, 6, 0]]), pad_id=0)  # the mask from pad_id
    assert len(_patches(fig, "last_position")) == 1
    with pytest.raises(ValueError, match="attention_mask or pad_id"):
        plots.plot_padded_batch_mask(ids)
    with pytest.raises(ValueError, match="no real token"):
        plots.plot_padded_batch_mask(torch.tensor([[0, 0]]), pad_id=0)
    with pytest.raises(ValueError, match="contiguous"):
        plots.plot_padded_batch_mask(torch.tensor([[1, 0, 1]]), pad_id=0)
    with pytest.raises(ValueError, match="same shape"):
        plots.plot_padded_batch_mask(ids, mask[:, :2])


def _bars(fig):
    ax = fig.axes[0]
    (trainable,) = [c for c in ax.containers if c.get_label() == "trainable"]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    return labels, [int(b.get_width()) for b in trainable]


def test_trainable_layers_last_block_recipe():
    torch.manual_seed(0)
    model = add_classification_head(GPTModel(TINY.with_(n_layers=4)), num_classes=2, trainable_blocks=1)
    fig = plots.plot_trainable_layers(model)
    labels, widths = _bars(fig)
    assert labels == ["emb", "blocks 0-2 (one of 3)", "block 3", "final_norm", "out_head"]

    def count(module):
        return sum(p.numel() for p in module.parameters() if p.requires_grad)

    assert widths == [0, 0, count(model.blocks[3]), count(model.final_norm), count(model.out_head)]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert f"trainable: {trainable:,} of" in fig.axes[0].get_title()
    labels, _ = _bars(plots.plot_trainable_layers(model, group_repeats=False))
    assert labels == ["emb", "block 0", "block 1", "block 2", "block 3", "final_norm", "out_head"]


def test_trainable_layers_lora_and_tied_weights():
    torch.manual_seed(0)
    model = LlamaModel(LLAMA_TINY)
    unique = sum(p.numel() for p in model.parameters())  # a tied head and embedding count once
    lora.apply_lora(model, rank=2, alpha=4)
    fig = plots.plot_trainable_layers(model, group_repeats=False)
    labels, widths = _bars(fig)
    frozen = [int(b.get_width()) for b in fig.axes[0].containers[1]]
    assert sum(widths) + sum(frozen) == sum(p.numel() for p in model.parameters())
    assert sum(frozen) == unique  # LoRA trains only the added A and B, everything else is frozen
    per_block = [sum(p.numel() for n, p in b.named_parameters() if ".lora." in f".{n}") for b in model.blocks]
    assert widths[labels.index("block 0")] == per_block[0] and widths[labels.index("block 1")] == per_block[1]
    with pytest.raises(TypeError, match="nn.Module"):
        plots.plot_trainable_layers([1, 2])
    with pytest.raises(ValueError, match="no parameters"):
        plots.plot_trainable_layers(nn.ReLU())


def test_lora_update_shapes_counts_and_learned_update():
    torch.manual_seed(0)
    base = nn.Linear(12, 8)
    fig = plots.plot_lora_update(base, rank=2, name="W_query")
    texts = _texts(fig)
    assert (
        any("12 × 8" in t for t in texts)
        and any("12 × 2" in t for t in texts)
        and any("2 × 8" in t for t in texts)
    )
    assert "= 40 " in fig.axes[0].get_title()  # r * (d_in + d_out) = 2 * 20
    assert {p.get_gid() for p in fig.axes[0].patches} == {"W", "A", "B"} and len(fig.axes) == 1
    wrapped = lora.LinearWithLoRA(base, rank=2, alpha=8)
    assert len(plots.plot_lora_update(wrapped).axes) == 1  # B = 0: no update to show yet
    with torch.no_grad():
        wrapped.lora.B.normal_()
    fig = plots.plot_lora_update(wrapped)
    image = fig.axes[1].images[0].get_array()
    assert image.shape == (8, 12) and np.allclose(image, wrapped.lora.delta_weight().detach().numpy())
    assert "rank 2" in fig.axes[1].get_title() and "(8/2)" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="pass rank"):
        plots.plot_lora_update(base)
    with pytest.raises(TypeError, match="nn.Linear or a LinearWithLoRA"):
        plots.plot_lora_update(nn.Conv1d(2, 2, 1), rank=2)


# ---------------------------------------------------------------------------------------------
# Chapter 7: the prompt template and collate


ENTRY = {
    "instruction": "Give the plural form of the noun below.",
    "input": "cat",
    "output": 'The plural is "cats".',
}


@pytest.mark.parametrize("style", ["alpaca", "phi3"])
def test_prompt_template_counts_tokens_per_section(tok, style):
    fig = plots.plot_prompt_template(ENTRY, tok, formatter=lambda e: format_prompt(e, style=style))
    prompt_ids, response_ids = tok.encode(format_prompt(ENTRY, style=style)), tok.encode(ENTRY["output"])
    boxes = [p for p in fig.axes[0].patches if p.get_gid()]
    assert len(boxes) == len(prompt_ids) + len(response_ids) + 1
    assert len(_patches(fig, "response")) == len(response_ids) and len(_patches(fig, "end-of-text")) == 1
    texts = [t.get_text() for t in fig.axes[0].texts]
    instruction = [t for p, t in zip(fig.axes[0].patches, texts) if p.get_gid() == "instruction"]
    assert "".join(instruction).replace("\u2423", " ").strip() == ENTRY["instruction"]
    assert _patches(fig, "input") and _patches(fig, "response marker")
    assert f"{len(prompt_ids)} prompt tokens" in fig.axes[0].get_title()


def test_prompt_template_without_input_and_errors(tok):
    fig = plots.plot_prompt_template({"instruction": "Say hi.", "output": "Hi."}, tok)
    assert not _patches(fig, "input") and _patches(fig, "preamble")
    with pytest.raises(ValueError, match="missing: output"):
        plots.plot_prompt_template({"instruction": "Say hi."}, tok)
    with pytest.raises(ValueError, match="does not contain the entry's instruction"):
        plots.plot_prompt_template(ENTRY, tok, formatter=lambda e: "### Response:\n")


def test_collate_mask_shades_every_ignored_target():
    toy = [[11, 12, 13, 14], [21, 22], [31, 32, 33]]
    inputs, targets = collate(toy, pad_id=2)
    masked = collate([Encoded(ids, 2) for ids in toy], pad_id=2, mask_prompt=True)[1]
    fig = plots.plot_collate_mask(inputs, targets, pad_id=2, masked_targets=masked)
    assert len(_patches(fig, "targets:ignored")) == int((targets == IGNORE_INDEX).sum()) == 3
    assert len(_patches(fig, "targets:kept_eot")) == len(toy)  # every row keeps its first end-of-text
    assert len(_patches(fig, "inputs:input_pad")) == sum(inputs.shape[1] - len(ids) for ids in toy)
    prompt_only = int(((masked == IGNORE_INDEX) & (targets != IGNORE_INDEX)).sum())
    assert len(_patches(fig, "masked:prompt")) == prompt_only == 3
    assert len(_patches(fig, "masked:ignored")) == 3
    assert _texts(fig).count(str(IGNORE_INDEX)) == int(
        (targets == IGNORE_INDEX).sum() + (masked == IGNORE_INDEX).sum()
    )
    long = collate([list(range(3, 23)), [5]], pad_id=2)  # 20 positions: panels one above the other
    fig = plots.plot_collate_mask(*long, pad_id=2)
    assert len(_patches(fig, "targets:ignored")) == int((long[1] == IGNORE_INDEX).sum()) == 19


def test_collate_mask_errors():
    inputs, targets = collate([[1, 2], [3]], pad_id=0)
    with pytest.raises(ValueError, match="same shape"):
        plots.plot_collate_mask(inputs, targets[:, :1], pad_id=0)
    with pytest.raises(ValueError, match="too many"):
        plots.plot_collate_mask(torch.zeros(1, 41), torch.zeros(1, 41), pad_id=0)
    with pytest.raises(ValueError, match=r"\(batch, seq_len\)"):
        plots.plot_collate_mask(torch.zeros(4), torch.zeros(4), pad_id=0)
