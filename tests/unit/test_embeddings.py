"""embeddings: token + position embeddings, and clear errors for bad ids or long input."""

import pytest
import torch

from llmscratch.model.embeddings import GPTEmbedding


def test_sum_of_token_and_position_rows():
    torch.manual_seed(0)
    emb = GPTEmbedding(vocab_size=10, context_length=4, emb_dim=3)
    token_ids = torch.tensor([[1, 2, 3], [3, 2, 1]])
    out = emb(token_ids)
    assert out.shape == (2, 3, 3)
    assert torch.equal(out[1, 0], emb.tok_emb.weight[3] + emb.pos_emb.weight[0])


def test_same_token_at_different_positions_differs():
    emb = GPTEmbedding(vocab_size=10, context_length=4, emb_dim=3)
    out = emb(torch.tensor([[5, 5]]))
    assert not torch.equal(out[0, 0], out[0, 1])


@pytest.mark.parametrize(
    "token_ids, message",
    [
        (torch.tensor([[1, 10]]), r"token id 10 is outside the vocabulary \[0, 10\)"),
        (torch.tensor([[-1, 2]]), r"token id -1 is outside"),
        (torch.zeros(1, 5, dtype=torch.long), "input has 5 tokens but context_length is 4"),
        (torch.zeros(5, dtype=torch.long), r"\(batch, seq_len\) tensor, got \(5,\)"),
    ],
)
def test_bad_input(token_ids, message):
    with pytest.raises(ValueError, match=message):
        GPTEmbedding(vocab_size=10, context_length=4, emb_dim=3)(token_ids)
