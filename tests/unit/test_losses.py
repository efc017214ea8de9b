"""lm_loss is next-token cross-entropy that skips IGNORE_INDEX; loss_over_loader averages batches in eval mode."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from llmscratch.constants import IGNORE_INDEX
from llmscratch.training.losses import lm_batch_loss, lm_loss, lm_loss_over_loader, loss_over_loader


def test_lm_loss_is_the_mean_negative_log_probability_of_the_targets():
    torch.manual_seed(0)
    logits, targets = torch.randn(2, 5, 11), torch.randint(0, 11, (2, 5))
    by_hand = -torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).mean()
    torch.testing.assert_close(lm_loss(logits, targets), by_hand)
    torch.testing.assert_close(
        lm_loss(logits, targets), F.cross_entropy(logits.flatten(0, 1), targets.flatten())
    )


def test_ignore_index_positions_are_left_out_of_the_mean():
    torch.manual_seed(1)
    logits, targets = torch.randn(1, 6, 7), torch.randint(0, 7, (1, 6))
    masked = targets.clone()
    masked[0, :4] = IGNORE_INDEX
    torch.testing.assert_close(lm_loss(logits, masked), lm_loss(logits[:, 4:], targets[:, 4:]))


def test_a_uniform_guess_costs_log_vocab_size():
    assert math.isclose(
        lm_loss(torch.zeros(3, 4, 50), torch.zeros(3, 4, dtype=torch.long)).item(), math.log(50), rel_tol=1e-6
    )


def test_bad_shapes_and_all_ignored_targets_are_explained():
    with pytest.raises(ValueError, match=r"logits must be \(batch, seq_len, vocab_size\)"):
        lm_loss(torch.zeros(4, 10), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="every target is IGNORE_INDEX"):
        lm_loss(torch.zeros(1, 2, 5), torch.full((1, 2), IGNORE_INDEX))


class _Bigram(torch.nn.Module):
    def __init__(self, vocab: int = 9):
        super().__init__()
        self.table = torch.nn.Embedding(vocab, vocab)
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, ids):
        return self.drop(self.table(ids))


def test_loss_over_loader_is_the_mean_batch_loss_in_eval_mode():
    torch.manual_seed(2)
    model = _Bigram().train()
    batches = [(torch.randint(0, 9, (2, 4)), torch.randint(0, 9, (2, 4))) for _ in range(3)]
    expected = sum(lm_loss(model.eval()(x), y).item() for x, y in batches) / 3
    model.train()
    assert math.isclose(lm_loss_over_loader(model, batches), expected, rel_tol=1e-6)
    assert model.training, "the model's mode must be restored"
    assert math.isclose(
        lm_loss_over_loader(model, batches, max_batches=1),
        lm_batch_loss(model.eval(), batches[0], torch.device("cpu")).item(),
        rel_tol=1e-6,
    )


def test_an_empty_loader_is_an_error_not_nan():
    with pytest.raises(ValueError, match="no batches"):
        loss_over_loader(_Bigram(), [])
    with pytest.raises(ValueError, match="max_batches must be at least 1"):
        loss_over_loader(_Bigram(), [], max_batches=0)
