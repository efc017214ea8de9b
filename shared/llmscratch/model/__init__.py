"""The model (chapters 3-4, and Llama as GPT's sibling): token ids in, logits out, then generation.

- ``config``     ``GPTConfig`` and the GPT-2 presets; the shared validation and ``with_()``
- ``attention``  causal multi-head self-attention: the teaching module, a fused one, one ``attend``
- ``kv_cache``   the KV cache and the cache-aware attention the model uses
- ``embeddings`` token + absolute positional embeddings
- ``block``      LayerNorm, GELU, FeedForward, ``TransformerBlock``
- ``gpt``        ``GPTModel``, ``count_parameters``, ``parameter_memory_mib``
- ``llama``      ``LlamaModel``: RMSNorm, RoPE, SwiGLU, grouped-query attention
- ``qwen3``      ``Qwen3Model``: Llama plus QK-norm and a head width of its own
- ``sliding_window`` local attention's mask and a KV cache that keeps only the window
- ``gemma3``     ``Gemma3Model``: local/global layers, pre- and post-norms, GeGLU, embedding scale
- ``moe``        ``MoEModel``: a router and top-k experts in place of the SwiGLU (Qwen3-MoE, QK-norm)
- ``mla``        ``MLAModel``: multi-head latent attention and its latent KV cache (DeepSeek-V3)
- ``cache_calculator`` parameters (total, active) and KV-cache bytes of every family, by arithmetic
- ``lora``       low-rank updates on frozen linear layers
- ``generate``   greedy / temperature / top-k / top-p decoding, streamed or batched
"""
