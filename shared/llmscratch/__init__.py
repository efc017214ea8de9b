"""llmscratch: the finished components of the book-style GPT, one module per concept.

The chapter notebooks build every piece here by hand first, prove their version equals the one in
this package (a *handover cell* asserts identical outputs), and from then on import it from here.

Modules (each docstring says what it holds and how it differs from its neighbours):

- ``settings``   the quick-mode switch, ``pick``, the cache folder, seeding (the only env reader)
- ``device``     ``get_device()``: CUDA, then Apple MPS, then CPU
- ``tokenizer``  the regex word tokenizers of chapter 2 and the offline GPT-2 ``tiktoken`` encoding
- ``bpe``        byte-pair encoding from scratch: train merges, encode/decode exactly like tiktoken, JSON files
- ``downloads``  the download registry: ``fetch(name)`` with checksum, cache and atomic write
- ``assets``     text we wrote ourselves, bundled so every notebook works offline
- ``data``       the sliding-window next-token dataset and ``create_dataloader``
- ``embeddings`` token + absolute positional embeddings
- ``attention``  causal multi-head self-attention: the teaching module and a fused fast one
- ``config``     ``GPTConfig`` and the GPT-2 presets (124M ... 1558M, TINY)
- ``layers``     LayerNorm, GELU, FeedForward, TransformerBlock
- ``kv_cache``   the KV cache and the cache-aware attention subclass
- ``model``      ``GPTModel``, ``count_parameters``, ``parameter_memory_mib``
- ``generate``   greedy / temperature / top-k / top-p generation, with or without the KV cache
- ``weights``    GPT-2's (HuggingFace) weight layout <-> ``GPTModel``, with per-tensor shape checks
- ``llama``      ``LlamaModel``: GPT's sibling (RMSNorm, RoPE, SwiGLU, grouped-query attention), HF Llama weights
- ``gguf``       llama.cpp's GGUF files: reader, Q8_0/Q4_1 dequantizer, config and tokenizer from the metadata
- ``smollm``     SmolLM2-135M-Instruct offline: find and verify the GGUF file, load it, its chat template
- ``evaluation`` bits per byte: comparing language models whose tokenizers differ
"""

__version__ = "0.1.0"
