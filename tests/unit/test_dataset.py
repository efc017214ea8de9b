"""data: sliding windows as views, shifted targets, the data loader, and bad input."""

import pytest
import torch

from llmscratch.constants import EOT_ID
from llmscratch.text.dataset import NextTokenDataset, create_dataloader
from llmscratch.text.gpt2 import gpt2_encoding
from llmscratch.text.words import SimpleTokenizerV2, build_vocab

IDS = list(range(100, 120))  # 20 tokens


@pytest.mark.parametrize("max_length, stride", [(4, 1), (4, 4), (5, 3), (19, 1), (1, 7)])
def test_windows_and_targets(max_length, stride):
    ds = NextTokenDataset(IDS, max_length=max_length, stride=stride)
    starts = range(0, len(IDS) - max_length, stride)  # a window needs max_length + 1 tokens
    assert len(ds) == len(starts)
    for i, start in enumerate(starts):
        x, y = ds[i]
        assert x.tolist() == IDS[start : start + max_length]
        assert y.tolist() == IDS[start + 1 : start + max_length + 1]


def test_windows_are_views_not_copies():
    ds = NextTokenDataset(torch.arange(10_000), max_length=256, stride=1)
    x, y = ds[123]
    assert x.untyped_storage().data_ptr() == ds.token_ids.untyped_storage().data_ptr()
    assert y.untyped_storage().data_ptr() == ds.token_ids.untyped_storage().data_ptr()


def test_stride_1_over_a_million_tokens_stays_small():
    ds = NextTokenDataset(torch.randint(0, 50_000, (1_000_000,)), max_length=256, stride=1)
    assert len(ds) == 1_000_000 - 256
    assert ds.windows.untyped_storage().nbytes() == 8 * 1_000_000  # one int64 tensor, nothing more


@pytest.mark.parametrize(
    "ids, kwargs, message",
    [
        ([], dict(max_length=4, stride=1), "no tokens: the text is empty"),
        ([1, 2, 3], dict(max_length=4, stride=1), "has 3 tokens but max_length=4 needs at least 5"),
        (IDS, dict(max_length=4, stride=0), "stride must be at least 1, got 0"),
        (IDS, dict(max_length=0, stride=1), "max_length must be at least 1"),
        ([[1, 2], [3, 4]], dict(max_length=1, stride=1), "one flat sequence"),
    ],
)
def test_bad_input(ids, kwargs, message):
    with pytest.raises(ValueError, match=message):
        NextTokenDataset(ids, **kwargs)


TEXT = "The apprentice wound the clock and listened. " * 40


def test_dataloader_batches_have_the_right_shape():
    loader = create_dataloader(TEXT, batch_size=3, max_length=8, stride=8, shuffle=False)
    x, y = next(iter(loader))
    assert x.shape == y.shape == (3, 8) and x.dtype == torch.long
    assert torch.equal(x[:, 1:], y[:, :-1])
    ids = gpt2_encoding().encode(TEXT)
    assert x[0].tolist() == ids[:8] and x[1].tolist() == ids[8:16]


def test_dataloader_shuffle_is_reproducible_with_a_seeded_generator():
    def first_batch(seed):
        g = torch.Generator().manual_seed(seed)
        return next(iter(create_dataloader(TEXT, batch_size=4, max_length=4, stride=4, generator=g)))[0]

    assert torch.equal(first_batch(1), first_batch(1))
    assert not torch.equal(first_batch(1), first_batch(2))


def test_dataloader_with_a_word_tokenizer():
    tok = SimpleTokenizerV2(build_vocab(TEXT))
    x, _ = next(
        iter(create_dataloader(TEXT, tokenizer=tok, batch_size=2, max_length=4, stride=4, shuffle=False))
    )
    assert x[0].tolist() == tok.encode(TEXT)[:4]


def test_dataloader_keeps_endoftext_as_one_token():
    loader = create_dataloader(
        "a b <|endoftext|> c d e f", batch_size=1, max_length=4, stride=1, shuffle=False
    )
    assert EOT_ID in next(iter(loader))[0][0].tolist()


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        ("", {}, "text is empty"),
        ("too short", dict(max_length=256), "has 2 tokens but max_length=256 needs at least 257"),
        (TEXT, dict(stride=0, max_length=4), "stride must be at least 1"),
        (TEXT, dict(batch_size=0), "batch_size must be at least 1"),
        (
            "one two three four five six",
            dict(max_length=4, stride=1, batch_size=8),
            "only 2 window.*batch_size=8",
        ),
    ],
)
def test_dataloader_bad_input(text, kwargs, message):
    with pytest.raises(ValueError, match=message):
        create_dataloader(text, **kwargs)


@pytest.mark.parametrize("token_ids", [["the", "cat"], "the cat"])
def test_text_instead_of_ids_names_the_fix(token_ids):
    with pytest.raises(
        TypeError,
        match=r"token_ids must be integer token ids, got str values .*tokenize the text first \(tokenizer.encode\(text\)\)",
    ):
        NextTokenDataset(token_ids, max_length=1, stride=1)
