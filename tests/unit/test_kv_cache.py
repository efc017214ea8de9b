"""kv_cache: a forward pass split into chunks through the cache equals one full forward pass."""

from __future__ import annotations

import pytest
import torch

from llmscratch.model.config import TINY
from llmscratch.model.embeddings import GPTEmbedding
from llmscratch.model.gpt import GPTModel
from llmscratch.model.kv_cache import CachedMultiHeadAttention, KVCache, LayerKVCache

CFG = TINY.with_(vocab_size=97, context_length=16, emb_dim=32, n_heads=4, drop_rate=0.0)


@pytest.mark.parametrize("chunks", [[10], [1] * 10, [4, 1, 1, 3, 1], [7, 3]])
def test_attention_in_chunks_equals_one_pass(chunks):
    torch.manual_seed(0)
    att = CachedMultiHeadAttention(32, 32, 16, 0.0, 4, qkv_bias=True).eval()
    x = torch.randn(2, sum(chunks), 32)
    cache, outs, start = LayerKVCache(16), [], 0
    for n in chunks:
        outs.append(att(x[:, start : start + n], cache))
        start += n
    assert cache.length == sum(chunks)
    torch.testing.assert_close(torch.cat(outs, dim=1), att(x), atol=1e-6, rtol=0)


def test_model_in_chunks_equals_one_pass():
    torch.manual_seed(0)
    model = GPTModel(CFG).eval()
    token_ids = torch.randint(0, CFG.vocab_size, (2, 12))
    cache = model.new_kv_cache()
    logits = torch.cat(
        [model(token_ids[:, :5], cache), model(token_ids[:, 5:6], cache), model(token_ids[:, 6:], cache)],
        dim=1,
    )
    assert len(cache) == 12
    torch.testing.assert_close(logits, model(token_ids), atol=1e-5, rtol=0)


def test_embedding_start_pos_continues_the_positions():
    emb = GPTEmbedding(vocab_size=10, context_length=6, emb_dim=4)
    token_ids = torch.tensor([[1, 2, 3, 4]])
    torch.testing.assert_close(emb(token_ids[:, 2:], start_pos=2), emb(token_ids)[:, 2:])
    with pytest.raises(ValueError, match="input has 3 tokens after 4 cached tokens but context_length is 6"):
        emb(torch.tensor([[1, 2, 3]]), start_pos=4)


def test_cache_refuses_to_overflow_with_the_numbers():
    cache = LayerKVCache(4)
    cache.append(torch.zeros(1, 2, 3, 5), torch.zeros(1, 2, 3, 5))
    with pytest.raises(ValueError, match="holds 4 positions .*3 are used and 2 more do not fit"):
        cache.append(torch.zeros(1, 2, 2, 5), torch.zeros(1, 2, 2, 5))
    assert cache.length == 3  # the failed append changed nothing


def test_cache_refuses_another_batch_size():
    cache = LayerKVCache(4)
    cache.append(torch.zeros(2, 1, 1, 3), torch.zeros(2, 1, 1, 3))
    with pytest.raises(ValueError, match="batch size 2, got 3"):
        cache.append(torch.zeros(3, 1, 1, 3), torch.zeros(3, 1, 1, 3))


def test_reset_empties_every_layer_and_the_buffer_is_reused():
    cache = KVCache(n_layers=3, capacity=8)
    for layer in cache.layers:
        layer.append(torch.ones(1, 1, 5, 2), torch.ones(1, 1, 5, 2))
    buffer = cache.layers[0].keys
    assert len(cache) == 5
    cache.reset()
    assert len(cache) == 0 and all(layer.length == 0 for layer in cache.layers)
    keys, _ = cache.layers[0].append(torch.full((1, 1, 2, 2), 7.0), torch.zeros(1, 1, 2, 2))
    assert cache.layers[0].keys is buffer and torch.equal(keys, torch.full((1, 1, 2, 2), 7.0))


def test_model_rejects_a_cache_for_another_depth():
    model = GPTModel(CFG)
    with pytest.raises(ValueError, match="kv_cache has 5 layers but the model has 2 blocks"):
        model(torch.zeros(1, 3, dtype=torch.long), KVCache(5, 16))


def test_model_rejects_tokens_beyond_the_context_after_cached_ones():
    model = GPTModel(CFG).eval()
    cache = model.new_kv_cache()
    model(torch.zeros(1, 15, dtype=torch.long), cache)
    with pytest.raises(
        ValueError, match="input has 2 tokens after 15 cached tokens but context_length is 16"
    ):
        model(torch.zeros(1, 2, dtype=torch.long), cache)


@pytest.mark.parametrize("family", ["gpt", "llama"])
def test_crop_keeps_a_prefix_that_later_tokens_extend(family):
    """A cropped cache continued with new tokens gives the logits of the whole sequence run at once."""
    from llmscratch.model.config import TINY
    from llmscratch.model.gpt import GPTModel
    from llmscratch.model.llama import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    model = (
        GPTModel(TINY.with_(drop_rate=0.0))
        if family == "gpt"
        else LlamaModel(
            LlamaConfig(
                vocab_size=100,
                context_length=32,
                emb_dim=32,
                n_heads=4,
                n_layers=2,
                n_kv_heads=2,
                hidden_dim=64,
            )
        )
    ).eval()
    ids = torch.randint(0, 100, (1, 12))
    other = torch.randint(0, 100, (1, 6))
    cache = model.new_kv_cache()
    with torch.no_grad():
        model(
            torch.cat([ids[:, :6], other], dim=1), cache
        )  # a conversation that went elsewhere after 6 tokens
        cache.crop(6)
        assert len(cache) == 6
        assert (
            cache.token_ids is None or cache.token_ids.tolist() == ids[:, :6].tolist()
        )  # LlamaModel keeps no ids
        continued = model(ids[:, 6:], cache)[:, -1]
        whole = model(ids)[:, -1]
    torch.testing.assert_close(continued, whole, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="length must be between 0 and the 12 cached tokens"):
        cache.crop(13)
    cache.crop(0)
    assert len(cache) == 0
