"""classify: balancing, splitting, the padded dataset, last-real-token pooling, the head, loss, files."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from llmscratch.constants import EOT_ID
from llmscratch.finetune.classifier_files import load_classifier, save_classifier
from llmscratch.finetune.classify import (
    accepts_attention_mask,
    accuracy,
    add_classification_head,
    class_logits,
    classify,
    classify_all,
    cls_batch_loss,
    cls_loss,
    cls_loss_over_loader,
    last_token_index,
    pool,
    predictions,
)
from llmscratch.finetune.classify_data import (
    ClassBatch,
    ClassificationDataset,
    balance_by_undersampling,
    classification_loader,
    pad_batch,
    split_dataset,
)
from llmscratch.model.config import TINY
from llmscratch.model.gpt import GPTModel, count_parameters

CFG = TINY.with_(drop_rate=0.0)


def encode(text: str) -> list[int]:
    """A toy tokenizer: one id per character (enough to test padding and truncation)."""
    return [ord(c) % 1000 for c in text]


@pytest.fixture
def model():
    torch.manual_seed(0)
    return GPTModel(CFG).eval()


# --- data ------------------------------------------------------------------------------------


def test_undersampling_keeps_the_rare_class_and_balances():
    texts = [f"m{i}" for i in range(30)]
    labels = [0] * 25 + [1] * 5
    t, y = balance_by_undersampling(texts, labels, seed=1)
    assert y.count(0) == y.count(1) == 5
    assert set(texts[25:]) <= set(t)  # every spam kept
    assert t == [x for x in texts if x in set(t)]  # original order
    assert balance_by_undersampling(texts, labels, seed=1) == (t, y)
    assert balance_by_undersampling(texts, labels, seed=2) != (t, y)


def test_split_is_seeded_disjoint_and_70_10_20():
    texts, labels = [f"m{i}" for i in range(1000)], [i % 2 for i in range(1000)]
    s = split_dataset(texts, labels, seed=5)
    assert s.sizes() == {"train": 700, "val": 100, "test": 200}
    assert sorted(s.train.texts + s.val.texts + s.test.texts) == sorted(texts)
    assert split_dataset(texts, labels, seed=5).test.texts == s.test.texts
    assert split_dataset(texts, labels, seed=6).test.texts != s.test.texts
    with pytest.raises(ValueError, match="fractions must be three non-negative numbers that sum to 1"):
        split_dataset(texts, labels, fractions=(0.8, 0.1, 0.2))
    with pytest.raises(ValueError, match="same length, got 1000 texts and 3 labels"):
        split_dataset(texts, labels[:3])


def test_dataset_rejects_an_empty_message_naming_it():
    with pytest.raises(ValueError, match=r"message 1 is empty \(' '\)"):
        ClassificationDataset(["hello", " ", "x"], [0, 1, 0], encode)


@pytest.mark.parametrize("label", [2, -1, "spam", 1.0, True])
def test_dataset_rejects_a_label_outside_the_set(label):
    with pytest.raises(ValueError, match=r"message 1 has label .* outside the expected set \[0, 1\]"):
        ClassificationDataset(["hello", "there"], [0, label], encode)


def test_dataset_truncates_long_messages_and_says_so():
    with pytest.warns(
        UserWarning, match=r"1 of 2 messages are longer than max_length=5 tokens and were truncated"
    ):
        ds = ClassificationDataset(["hi", "a long message"], [0, 1], encode, max_length=5)
    assert ds.n_truncated == 1 and ds[1][0] == encode("a lon") and ds.longest == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing cut: no warning
        assert ClassificationDataset(["hi"], [0], encode, max_length=5).n_truncated == 0


def test_loader_pads_to_the_longest_in_each_batch_with_the_pad_id():
    ds = ClassificationDataset(["a", "abc", "abcdef", "ab"], [0, 1, 1, 0], encode)
    batches = list(classification_loader(ds, pad_id=EOT_ID, batch_size=2))
    assert [tuple(b.token_ids.shape) for b in batches] == [(2, 3), (2, 6)]
    first = batches[0]
    assert isinstance(first, ClassBatch)
    assert first.token_ids[0].tolist() == encode("a") + [EOT_ID, EOT_ID]
    assert first.attention_mask.tolist() == [[1, 0, 0], [1, 1, 1]] and first.labels.tolist() == [0, 1]
    fixed = next(iter(classification_loader(ds, pad_id=0, batch_size=2, pad_to=8)))
    assert fixed.token_ids.shape == (2, 8)
    with pytest.raises(
        ValueError, match=r"pad_to=4 is shorter than the dataset's longest message \(6 tokens\)"
    ):
        classification_loader(ds, pad_id=0, pad_to=4)


def test_shuffled_loader_is_reproducible():
    ds = ClassificationDataset([str(i) * 3 for i in range(20)], [i % 2 for i in range(20)], encode)
    order = lambda seed: [
        b.labels.tolist() + b.token_ids[:, 0].tolist()
        for b in classification_loader(ds, pad_id=0, shuffle=True, seed=seed)
    ]
    assert order(3) == order(3) and order(3) != order(4)


# --- which position is read ------------------------------------------------------------------


def test_last_token_index_right_left_and_none_padded():
    ids, mask = pad_batch([[1, 2, 3], [4], [5, 6]], pad_id=0, padding_side="right")
    assert last_token_index(mask).tolist() == [2, 0, 1]
    ids, mask = pad_batch([[1, 2, 3], [4], [5, 6]], pad_id=0, padding_side="left")
    assert last_token_index(mask).tolist() == [2, 2, 2]
    with pytest.raises(ValueError, match="no real token"):
        last_token_index(torch.tensor([[1, 1], [0, 0]]))


def test_pool_choices():
    outputs = torch.arange(2 * 4 * 1).float().view(2, 4, 1)  # value = 4 * row + position
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    assert pool(outputs, mask, how="last").flatten().tolist() == [1.0, 7.0]
    assert pool(outputs, mask, how="last_position").flatten().tolist() == [3.0, 7.0]
    assert pool(outputs, mask, how="first").flatten().tolist() == [0.0, 4.0]
    with pytest.raises(ValueError, match="how must be one of"):
        pool(outputs, mask, how="mean")


def test_right_padded_last_real_token_equals_the_unpadded_message(model):
    """Causal attention: the padding after a message cannot change its last real token's output."""
    torch.manual_seed(1)
    long, short = torch.randint(0, 1000, (9,)).tolist(), torch.randint(0, 1000, (4,)).tolist()
    ids, mask = pad_batch([long, short], pad_id=EOT_ID, padding_side="right")
    with torch.no_grad():
        batched = class_logits(model, ids, mask)  # (2, V)
        alone = [model(torch.tensor([seq]))[0, -1] for seq in (long, short)]
        at_last_position = class_logits(model, ids, mask, pooling="last_position")
    torch.testing.assert_close(batched[0], alone[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(batched[1], alone[1], atol=1e-5, rtol=0)
    assert (at_last_position[1] - alone[1]).abs().max() > 1e-3  # the pitfall: a padding token's output


def test_left_padded_batch_needs_a_mask_aware_model(model):
    ids, mask = pad_batch([[1, 2, 3], [4]], pad_id=EOT_ID, padding_side="left")
    if accepts_attention_mask(model):
        pytest.skip("covered by test_left_padded_last_real_token_equals_the_unpadded_message")
    with pytest.raises(
        ValueError,
        match="left-padded but GPTModel.forward has no attention_mask argument.*padding_side='right'",
    ):
        class_logits(model, ids, mask)


def test_left_padded_last_real_token_equals_the_unpadded_message(model):
    if not accepts_attention_mask(model):
        pytest.skip("GPTModel.forward has no attention_mask on this branch")
    torch.manual_seed(1)
    long, short = torch.randint(0, 1000, (9,)).tolist(), torch.randint(0, 1000, (4,)).tolist()
    ids, mask = pad_batch([long, short], pad_id=EOT_ID, padding_side="left")
    with torch.no_grad():
        batched = class_logits(model, ids, mask)
        alone = model(torch.tensor([short]))[0, -1]
    assert last_token_index(mask).tolist() == [8, 8]
    torch.testing.assert_close(batched[1], alone, atol=1e-5, rtol=0)


# --- the head and what is trained ------------------------------------------------------------


def test_head_replaced_and_only_the_last_block_norm_and_head_train(model):
    add_classification_head(model, num_classes=3)
    assert (
        isinstance(model.out_head, nn.Linear)
        and model.out_head.out_features == 3
        and model.out_head.in_features == CFG.emb_dim
    )
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    last = f"blocks.{CFG.n_layers - 1}."
    assert trainable and all(n.startswith((last, "final_norm.", "out_head.")) for n in trainable)
    expected = sum(
        p.numel() for m in (model.blocks[-1], model.final_norm, model.out_head) for p in m.parameters()
    )
    assert count_parameters(model, trainable_only=True) == expected
    assert model.emb.tok_emb.weight.requires_grad is False  # was tied to the old head; stays frozen
    assert model(torch.tensor([[1, 2, 3]])).shape == (1, 3, 3)


def test_head_options_and_bad_arguments(model):
    add_classification_head(model, trainable_blocks="all")
    assert all(p.requires_grad for p in model.parameters())
    add_classification_head(model, trainable_blocks=0)
    assert {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad} == {
        "final_norm",
        "out_head",
    }
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        add_classification_head(model, num_classes=1)
    with pytest.raises(ValueError, match=r"trainable_blocks must be 'all' or an integer from 0 to 2"):
        add_classification_head(model, trainable_blocks=3)
    with pytest.raises(TypeError, match="has no 'blocks'"):
        add_classification_head(nn.Linear(2, 2))


# --- loss, accuracy, classify ----------------------------------------------------------------


def test_cls_loss_is_cross_entropy_and_rejects_bad_labels():
    logits, labels = torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1])
    torch.testing.assert_close(cls_loss(logits, labels), nn.CrossEntropyLoss()(logits, labels))
    with pytest.raises(ValueError, match=r"label 2 is outside the expected set \[0, 1\]"):
        cls_loss(logits, torch.tensor([0, 2]))
    with pytest.raises(ValueError, match=r"logits must be \(batch, num_classes\).*class_logits"):
        cls_loss(logits[None], labels)


def test_batch_loss_and_accuracy_plug_into_a_generic_loop(model):
    """A generic loop calls loss_fn(model, batch); after a few steps on 8 messages, they are learnt."""
    torch.manual_seed(0)
    add_classification_head(model)
    texts = [
        "win cash now!!",
        "see you at 7",
        "claim your prize",
        "love you x",
        "free money here",
        "dinner?",
        "urgent prize",
        "home soon",
    ]
    ds = ClassificationDataset(texts, [1, 0, 1, 0, 1, 0, 1, 0], encode, max_length=CFG.context_length)
    loader = classification_loader(ds, pad_id=EOT_ID, batch_size=4)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    before = cls_loss_over_loader(model, loader)
    model.train()
    for _ in range(30):
        for batch in loader:
            optimizer.zero_grad()
            cls_batch_loss(model, batch).backward()
            optimizer.step()
    assert model.training  # accuracy() restores the mode it found
    assert cls_loss_over_loader(model, loader) < before
    assert accuracy(model, loader) == 1.0 and model.training
    assert accuracy(model, loader, max_batches=1) == 1.0
    assert predictions(model, loader) == [1, 0, 1, 0, 1, 0, 1, 0] and model.training
    assert classify(model, "win cash now!!", encode) == "spam"
    batch = next(iter(loader))  # the train loop's calling convention: (model, batch, device)
    assert torch.equal(cls_batch_loss(model, batch, torch.device("cpu")), cls_batch_loss(model, batch))


def test_classify_bad_input(model):
    add_classification_head(model)
    with pytest.raises(ValueError, match="text is empty"):
        classify(model, "   ", encode)
    with pytest.warns(
        UserWarning, match=rf"has 100 tokens, more than max_length={CFG.context_length}; only its first"
    ):
        assert classify(model, "x" * 100, encode) in ("ham", "spam")
    with pytest.raises(ValueError, match="label_names has 3 names but the model's head has 2 classes"):
        classify(model, "hi", encode, label_names=("a", "b", "c"))


def test_classify_all_gives_the_labels_of_classify_one_by_one(model):
    torch.manual_seed(3)
    add_classification_head(model, num_classes=3)
    nn.init.normal_(
        model.out_head.weight, std=1.0
    )  # a random head that does not give every text the same class
    names = ("a", "b", "c")
    texts = [f"message {i}: " + "word " * (i % 7) + "!" * (i % 3) for i in range(13)]
    one_by_one = [classify(model, t, encode, label_names=names) for t in texts]
    assert len(set(one_by_one)) > 1
    for batch_size in (1, 4, 32):
        assert classify_all(model, texts, encode, label_names=names, batch_size=batch_size) == one_by_one
    with pytest.raises(ValueError, match="text 1 is empty"):
        classify_all(model, ["hi", " "], encode, label_names=names)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        classify_all(model, ["hi"], encode, label_names=names, batch_size=0)


# --- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("trainable_only", [False, True])
def test_save_and_load_round_trip(model, tmp_path, trainable_only):
    torch.manual_seed(3)
    add_classification_head(model)
    with torch.no_grad():
        model.out_head.weight.normal_()
    path = save_classifier(
        model, tmp_path / "clf.safetensors", label_names=("ok", "junk"), trainable_only=trainable_only
    )
    assert [p.name for p in tmp_path.iterdir()] == ["clf.safetensors"]  # no temporary file left
    torch.manual_seed(0)
    fresh = GPTModel(CFG).eval()  # same backbone (same seed), language-model head
    loaded, names = load_classifier(fresh, path)
    assert names == ["ok", "junk"]
    ids = torch.tensor([[5, 6, 7]])
    torch.testing.assert_close(loaded(ids), model(ids), atol=0, rtol=0)


def test_load_errors(model, tmp_path):
    with pytest.raises(FileNotFoundError, match="no classifier file at .*save_classifier"):
        load_classifier(model, tmp_path / "missing.safetensors")
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="was not written by save_classifier"):
        load_classifier(model, tmp_path / "other.safetensors")


def test_load_goes_through_the_safetensors_checks(model, tmp_path):
    """A pickle is refused by name and a cut-off file is called truncated, as by every other loader."""
    from llmscratch.training.safe_files import CheckpointError

    add_classification_head(model)
    good = save_classifier(model, tmp_path / "clf.safetensors").read_bytes()
    pickled = tmp_path / "pickled.safetensors"
    torch.save(model.state_dict(), pickled)
    with pytest.raises(
        CheckpointError, match="is a PyTorch pickle .* refused, because loading a pickle can run code"
    ):
        load_classifier(model, pickled)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="cut.safetensors is truncated: it has"):
        load_classifier(model, cut)


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_llama_last_real_token_and_head(padding_side):
    """The same code on the Llama-style model: no branching on the family."""
    from llmscratch.model.llama import LLAMA_TINY, LlamaModel

    torch.manual_seed(0)
    llama = LlamaModel(LLAMA_TINY).eval()
    long, short = (
        torch.randint(0, LLAMA_TINY.vocab_size, (9,)).tolist(),
        torch.randint(0, LLAMA_TINY.vocab_size, (4,)).tolist(),
    )
    ids, mask = pad_batch([long, short], pad_id=0, padding_side=padding_side)
    with torch.no_grad():
        batched = class_logits(llama, ids, mask)
        alone = llama(torch.tensor([short]))[0, -1]
    torch.testing.assert_close(batched[1], alone, atol=1e-5, rtol=0)
    add_classification_head(llama)
    trainable = {n.split(".")[0] for n, p in llama.named_parameters() if p.requires_grad}
    assert trainable == {"blocks", "final_norm", "out_head"} and llama(ids, attention_mask=mask).shape == (
        2,
        9,
        2,
    )
