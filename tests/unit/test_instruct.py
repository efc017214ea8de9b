"""instruct: prompt format, validation, split, dataset, collate, response extraction, saving.

Collate is checked against ``F.cross_entropy``: padding targets must contribute nothing to the
loss, and the first end-of-text must (the model learns to stop there).
"""

from __future__ import annotations

import json
import os
import warnings

import pytest
import torch
import torch.nn.functional as F

from llmscratch.constants import EOT_ID, IGNORE_INDEX
from llmscratch.finetune.instruct import (
    Encoded,
    InstructionDataset,
    collate,
    create_instruction_dataloader,
    load_responses,
    respond,
    respond_all,
    save_responses,
)
from llmscratch.finetune.instruct_data import split_instructions, validate_entries
from llmscratch.finetune.prompts import (
    PREAMBLE,
    RESPONSE_MARKER,
    extract_response,
    fit_prompt,
    format_chat,
    format_prompt,
)
from llmscratch.text.gpt2 import gpt2_encoding

ENC = gpt2_encoding()
ENTRIES = [
    {
        "instruction": "Give the plural of the noun below.",
        "input": "mouse",
        "output": 'The plural of "mouse" is "mice".',
        "kind": "plural",
    },
    {"instruction": "What is 2 + 3?", "input": "", "output": "5", "kind": "arithmetic"},
    {
        "instruction": "Sort these words.",
        "input": "pear, apple, fig",
        "output": "apple, fig, pear.",
        "kind": "sort_list",
    },
]


def _encode(text):
    return ENC.encode(text)


# ---- prompt ------------------------------------------------------------------------------------------


def test_prompt_layout_with_and_without_input():
    with_input, without = format_prompt(ENTRIES[0]), format_prompt(ENTRIES[1])
    assert with_input.startswith(PREAMBLE) and "### Input:\nmouse\n\n" in with_input
    assert "### Input:" not in without
    for prompt in (with_input, without):
        assert prompt.endswith(f"{RESPONSE_MARKER}\n") and prompt.count(RESPONSE_MARKER) == 1
    assert format_prompt({"instruction": "Hi", "input": None}) == format_prompt({"instruction": "Hi"})


def test_phi3_style_and_unknown_style():
    prompt = format_prompt(ENTRIES[0], style="phi3")
    assert prompt == "<|user|>\nGive the plural of the noun below.\nmouse<|end|>\n<|assistant|>\n"
    with pytest.raises(ValueError, match="style must be one of .*'alpaca'.*got 'chatml'"):
        format_prompt(ENTRIES[0], style="chatml")


def test_chat_keeps_every_turn_in_order():
    text = format_chat([("Hi", "Hello."), ("2 + 2?", "4")], "Thanks")
    assert (
        text.count(PREAMBLE) == 1
        and text.count(RESPONSE_MARKER) == 3
        and text.endswith(f"{RESPONSE_MARKER}\n")
    )
    assert text.index("Hello.") < text.index("2 + 2?") < text.index("4") < text.index("Thanks")


# ---- validation and split ------------------------------------------------------------------------------


def test_validation_names_the_entry_and_the_field():
    with pytest.raises(
        ValueError, match=r"entry 1 is missing the field 'output' \(has: input, instruction\)"
    ):
        validate_entries([ENTRIES[0], {"instruction": "x", "input": ""}])
    with pytest.raises(TypeError, match=r"entry 2: field 'input' must be a str, got int \(7\)"):
        validate_entries([ENTRIES[0], ENTRIES[1], {"instruction": "x", "input": 7, "output": "y"}])
    with pytest.raises(TypeError, match="entry 0 must be a dict"):
        validate_entries(["just a string"])
    with pytest.raises(ValueError, match="entry 0: field 'instruction' is empty"):
        validate_entries([{"instruction": "  ", "output": "y"}])
    with pytest.raises(ValueError, match="entry 1 is missing the field 'instruction'"):
        InstructionDataset([ENTRIES[0], {"output": "y"}], _encode)


def test_split_rejects_duplicates_and_bad_fractions():
    dup = [ENTRIES[0], ENTRIES[1], {**ENTRIES[1], "instruction": "what is 2  + 3?", "output": "five"}]
    with pytest.raises(ValueError, match="entries 1 and 2 have the same prompt"):
        split_instructions(dup)
    with pytest.raises(ValueError, match="fractions must be three non-negative numbers that sum to 1"):
        split_instructions(ENTRIES, (0.8, 0.1, 0.2))


def test_split_is_stratified_and_disjoint():
    data = [
        {"instruction": f"{k} question {i}", "output": str(i), "kind": k} for k in "abc" for i in range(40)
    ]
    s = split_instructions(data, seed=3)
    assert s.sizes() == (102, 6, 12)
    for kind in "abc":
        assert sum(e["kind"] == kind for e in s.test) == 4
    ids = [{e["instruction"] for e in part} for part in (s.train, s.val, s.test)]
    assert len(ids[0] | ids[1] | ids[2]) == 120


# ---- dataset -------------------------------------------------------------------------------------------


def test_dataset_pretokenizes_prompt_then_response():
    ds = InstructionDataset(ENTRIES, _encode)
    for entry, item in zip(ENTRIES, ds):
        prompt = _encode(format_prompt(entry))
        assert item.prompt_length == len(prompt)
        assert item.token_ids == prompt + _encode(entry["output"])
        assert ENC.decode(item.token_ids) == format_prompt(entry) + entry["output"]
    assert ds.truncated == []


def test_dataset_truncates_long_entries_and_says_so():
    lengths = [len(item.token_ids) for item in InstructionDataset(ENTRIES, _encode)]
    longest, limit = lengths.index(max(lengths)), sorted(lengths)[-2]  # only the longest entry is too long
    with pytest.warns(
        UserWarning,
        match=rf"1 of 3 entries are longer than max_length={limit} tokens \(up to {max(lengths)}\) "
        rf"and were truncated: indices \[{longest}\]",
    ):
        ds = InstructionDataset(ENTRIES, _encode, max_length=limit)
    assert len(ds[longest].token_ids) == limit and ds.truncated == [longest]
    assert (
        ds[longest].token_ids == InstructionDataset(ENTRIES, _encode)[longest].token_ids[:limit]
    )  # the end is cut
    with pytest.warns(
        UserWarning, match=r"the prompt alone fills max_length, so nothing of the response is left"
    ):
        ds = InstructionDataset(ENTRIES, _encode, max_length=10)
    assert all(len(item.token_ids) == 10 and item.prompt_length == 10 for item in ds)
    with pytest.raises(ValueError, match="max_length must be at least 2"):
        InstructionDataset(ENTRIES, _encode, max_length=1)


def test_prompt_longer_than_context_is_cut_from_the_front_and_said():
    ids = list(range(100))
    with pytest.warns(UserWarning, match=r"100 tokens but only 30 fit .*first 70 tokens were dropped"):
        assert fit_prompt(ids, context_length=40, max_new_tokens=10) == ids[70:]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fit_prompt(ids, context_length=110, max_new_tokens=10) == ids
    with pytest.raises(ValueError, match="max_new_tokens=50 leaves no room"):
        fit_prompt(ids, context_length=50, max_new_tokens=50)


# ---- collate -------------------------------------------------------------------------------------------


def test_collate_pads_and_keeps_only_the_first_end_of_text():
    batch = [Encoded([5, 6, 7, 8], 2), Encoded([9, 10], 1)]
    x, y = collate(batch)
    assert x.tolist() == [[5, 6, 7, 8], [9, 10, EOT_ID, EOT_ID]]
    assert y.tolist() == [[6, 7, 8, EOT_ID], [10, EOT_ID, IGNORE_INDEX, IGNORE_INDEX]]
    _, y = collate(batch, mask_prompt=True)
    assert y.tolist() == [[IGNORE_INDEX, 7, 8, EOT_ID], [10, EOT_ID, IGNORE_INDEX, IGNORE_INDEX]]


def test_collate_treats_an_end_of_text_inside_the_text_as_text():
    x, y = collate([[1, EOT_ID, 2], [3]])
    assert y.tolist() == [[EOT_ID, 2, EOT_ID], [EOT_ID, IGNORE_INDEX, IGNORE_INDEX]]


def test_cross_entropy_skips_the_ignored_targets():
    torch.manual_seed(0)
    x, y = collate([Encoded([5, 6, 7, 8], 2), Encoded([9, 10], 1)])
    logits = torch.randn(*y.shape, 50_257)  # (B, T, V)
    loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
    keep = y != IGNORE_INDEX
    assert torch.allclose(loss, F.cross_entropy(logits[keep], y[keep]))  # the mean over kept targets only
    logits2 = logits.clone()
    logits2[~keep] = torch.randn_like(logits2[~keep]) * 100  # changing ignored positions changes nothing
    assert torch.equal(F.cross_entropy(logits2.flatten(0, 1), y.flatten()), loss)
    assert keep.sum() == 6  # 4 + 2 real targets, each including one end-of-text


def test_collate_truncates_and_moves_to_device():
    with pytest.warns(UserWarning, match="longer than allowed_max_length=3 tokens and was truncated"):
        x, y = collate([list(range(1, 8)), [1, 2]], allowed_max_length=3, device="cpu")
    assert x.shape == y.shape == (2, 3) and x.device.type == "cpu" and x.dtype == torch.long
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        collate([[1, 2]], allowed_max_length=3)
    if torch.cuda.is_available():
        assert collate([[1, 2]], device="cuda")[0].is_cuda


def test_collate_bad_input():
    with pytest.raises(ValueError, match="empty batch"):
        collate([])
    with pytest.raises(ValueError, match="an entry has no tokens"):
        collate([[1], []])


def test_dataloader_batches_and_is_reproducible():
    ds = InstructionDataset(ENTRIES * 3, _encode)  # duplicates are fine for a loader (no split here)
    loader = create_instruction_dataloader(ds, batch_size=4, shuffle=True, seed=1, mask_prompt=True)
    batches = [(x.clone(), y.clone()) for x, y in loader]
    assert [x.shape[0] for x, _ in batches] == [4, 4, 1]
    again = [
        (x, y)
        for x, y in create_instruction_dataloader(ds, batch_size=4, shuffle=True, seed=1, mask_prompt=True)
    ]
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(batches, again))
    for _x, y in batches:  # masking: the first kept target of each row is the first response token
        assert ((y != IGNORE_INDEX).sum(dim=1) > 0).all()
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        create_instruction_dataloader(ds, batch_size=0)


# ---- responses -----------------------------------------------------------------------------------------


def test_extract_response_cuts_by_token_position():
    prompt = format_prompt(ENTRIES[1])
    prompt_ids = _encode(prompt)
    generated = torch.tensor([prompt_ids + _encode(" 5 apples") + [EOT_ID] + _encode("junk")])  # (1, T)
    assert extract_response(generated, len(prompt_ids), decode=ENC.decode) == "5 apples"
    assert extract_response(generated[0], len(prompt_ids), decode=ENC.decode, eos_id=None).startswith(
        "5 apples<|endoftext|>"
    )
    # a decoder that does not give the prompt back exactly: cutting the text at len(prompt) would be wrong
    lossy = lambda ids: ENC.decode(ids).replace("### ", "")  # noqa: E731
    assert lossy(generated[0].tolist())[len(prompt) :] != " 5 apples<|endoftext|>junk"
    assert extract_response(generated, len(prompt_ids), decode=lossy) == "5 apples"
    assert extract_response(prompt + "5 apples<|endoftext|>junk") == "5 apples"


def test_extract_response_bad_input():
    with pytest.raises(ValueError, match="token ids need prompt_length"):
        extract_response([1, 2, 3])
    with pytest.raises(ValueError, match="prompt_length=9 is outside the sequence of 3 tokens"):
        extract_response([1, 2, 3], 9, decode=str)
    with pytest.raises(ValueError, match="got a batch of 2"):
        extract_response(torch.zeros(2, 5, dtype=torch.long), 1, decode=str)


def test_save_responses_round_trip_and_atomic(tmp_path):
    path = tmp_path / "out" / "responses.json"
    save_responses(path, ENTRIES, ["mice", "5", "apple, fig, pear."])
    saved = load_responses(path)
    assert [r["response"] for r in saved] == ["mice", "5", "apple, fig, pear."] and saved[0][
        "kind"
    ] == "plural"
    save_responses(path, saved, ["a", "b", "c"], key="response_after")  # a second run adds a column
    both = json.loads(path.read_text(encoding="utf-8"))
    assert both[2]["response"] == "apple, fig, pear." and both[2]["response_after"] == "c"
    assert os.listdir(path.parent) == ["responses.json"]  # no temporary file left behind
    with pytest.raises(ValueError, match="got 3 entries but 2 responses"):
        save_responses(path, ENTRIES, ["a", "b"])
    with pytest.raises(ValueError, match="key='output' would overwrite an entry field"):
        save_responses(path, ENTRIES, ["a", "b", "c"], key="output")
    assert load_responses(path) == both  # failed calls left the file as it was


# ---- respond: the whole path with a tiny random model ----------------------------------------------------


def _tiny_model():
    from llmscratch.model.config import TINY
    from llmscratch.model.gpt import GPTModel

    torch.manual_seed(0)
    return GPTModel(TINY).eval()


def test_respond_equals_generate_then_cut():
    from llmscratch.model.generate import generate

    model = _tiny_model()
    ids = _encode(format_prompt(ENTRIES[1]))
    out = generate(model, torch.tensor([ids]), 12)[0].tolist()
    new = out[len(ids) :]
    expected = ENC.decode(new[: new.index(EOT_ID)] if EOT_ID in new else new).strip()
    assert respond(model, ENTRIES[1], _encode, ENC.decode, max_new_tokens=12) == expected
    assert respond(model, format_prompt(ENTRIES[1]), _encode, ENC.decode, max_new_tokens=12) == expected
    assert (
        respond_all(model, ENTRIES[:2], _encode, ENC.decode, max_new_tokens=12, progress=False)[1] == expected
    )


def test_respond_fits_a_long_prompt_into_the_context_and_says_so():
    model = _tiny_model()  # context_length 64
    long_entry = {"instruction": "Repeat: " + "word " * 80, "output": ""}
    with pytest.warns(UserWarning, match=r"only 54 fit \(context_length=64 minus max_new_tokens=10\)"):
        answer = respond(model, long_entry, _encode, ENC.decode, max_new_tokens=10)
    assert isinstance(answer, str)


# ---- respond_all: batched, with the answers of the one-by-one loop ----------------------------------------

MANY = ENTRIES + [
    {"instruction": "Name a colour.", "output": "Blue."},
    {
        "instruction": "Translate into French, please, and keep the meaning exactly.",
        "input": "The cat sleeps on the warm mat.",
        "output": "x",
    },
    {"instruction": "Hi", "output": "Hello."},
    {
        "instruction": "Write the numbers from one to five as words, separated by commas.",
        "output": "one, two",
    },
]


def _untied_tiny_model():
    from llmscratch.model.config import TINY
    from llmscratch.model.gpt import GPTModel

    torch.manual_seed(1)
    return GPTModel(
        TINY.with_(tie_embeddings=False)
    ).eval()  # an untied random model wanders through the vocabulary


def test_respond_all_in_batches_gives_the_one_by_one_answers_with_early_stops():
    from llmscratch.model.generate import generate

    model = _untied_tiny_model()
    firsts = [generate(model, torch.tensor([_encode(format_prompt(e))]), 6)[0, -6:].tolist() for e in MANY]
    eos = firsts[0][
        2
    ]  # a token that ends entry 0's answer early, so batches see rows stop at different steps
    one_by_one = [respond(model, e, _encode, ENC.decode, max_new_tokens=10, eos_id=eos) for e in MANY]
    assert len(set(one_by_one)) > 2  # different answers, so a row mix-up would show
    for batch_size in (2, 16):
        got = respond_all(
            model,
            MANY,
            _encode,
            ENC.decode,
            max_new_tokens=10,
            eos_id=eos,
            batch_size=batch_size,
            progress=False,
        )
        assert got == one_by_one
    assert (
        respond_all(
            model, MANY, _encode, ENC.decode, max_new_tokens=10, eos_id=eos, batch_size=1, progress=False
        )
        == one_by_one
    )


def test_respond_all_seeded_sampling_matches_respond_with_per_entry_generators():
    model = _untied_tiny_model()
    kwargs = {"max_new_tokens": 8, "temperature": 1.0, "top_k": 50}
    got = respond_all(model, MANY, _encode, ENC.decode, seed=11, batch_size=3, progress=False, **kwargs)
    assert got == respond_all(
        model, MANY, _encode, ENC.decode, seed=11, batch_size=7, progress=False, **kwargs
    )
    alone = [
        respond(model, e, _encode, ENC.decode, generator=torch.Generator().manual_seed(11 + i), **kwargs)
        for i, e in enumerate(MANY)
    ]
    assert got == alone
    shared = respond_all(
        model,
        MANY[:2],
        _encode,
        ENC.decode,
        generator=torch.Generator().manual_seed(5),
        progress=False,
        **kwargs,
    )
    g = torch.Generator().manual_seed(5)  # a shared generator: the one-by-one loop, in order
    assert shared == [respond(model, e, _encode, ENC.decode, generator=g, **kwargs) for e in MANY[:2]]


def test_respond_all_bad_arguments():
    model = _untied_tiny_model()
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        respond_all(model, MANY, _encode, ENC.decode, batch_size=0)
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['max_tokens'\]"):
        respond_all(model, MANY, _encode, ENC.decode, max_tokens=3)
