"""llmscratch: the finished components of the book-style GPT, one module per concept.

The chapter notebooks build every piece here by hand first, prove their version equals the one in
this package (a *handover cell* asserts identical outputs), and from then on import it from here.

Modules (each docstring says what it holds and how it differs from its neighbours):

- ``settings``   the quick-mode switch, ``pick``, the cache folder, seeding (the only env reader)
- ``device``     ``get_device()``: CUDA, then Apple MPS, then CPU
- ``constants``  numbers several modules share (``EOT_ID``, ``GPT2_VOCAB_SIZE``, ``IGNORE_INDEX``, GPT-2 file hashes)
- ``fileio``     ``atomic_write`` (every writer) and ``sha256_file``
- ``tokenizer``  the regex word tokenizers of chapter 2
- ``gpt2_tokenizer``  GPT-2's tokenizer files (offline, checksummed) and its ``tiktoken`` encoding
- ``bpe``        byte-pair encoding from scratch (a subpackage: merge steps, pre-tokenization, the
                 tokenizer, the trainers, GPT-2's merges): encode/decode exactly like tiktoken, JSON files
- ``downloads``  the download registry: ``fetch(name)`` with checksum, cache and atomic write
- ``assets``     text we wrote ourselves, bundled so every notebook works offline
- ``data``       the sliding-window next-token dataset and ``create_dataloader``
- ``embeddings`` token + absolute positional embeddings
- ``attention``  causal multi-head self-attention: the teaching module, a fused fast one, and the one
                 ``attend`` function (masked softmax or ``scaled_dot_product_attention``) all of them use
- ``config``     ``GPTConfig`` and the GPT-2 presets (124M ... 1558M, TINY)
- ``layers``     LayerNorm, GELU (fused kernels; ``TeachingLayerNorm``/``TeachingGELU`` write the formulas out), FeedForward, TransformerBlock
- ``kv_cache``   the KV cache (also remembers padding) and the cache-aware attention subclass the model uses
- ``model``      ``GPTModel`` (padded batches, selectable attention), ``count_parameters``, ``parameter_memory_mib``
- ``generate``   greedy / temperature / top-k / top-p generation: a token stream, the KV cache, padded batches
- ``weights``    GPT-2's (HuggingFace) weight layout <-> ``GPTModel``, with per-tensor shape checks
- ``instruct_data`` chapter 7's instruction set, generated from our own tables; Stanford Alpaca when online
- ``instruct``   the shared prompt format, seeded split, pre-tokenized dataset, collate, response extraction
- ``metrics``    exact match, token F1 and ROUGE-L (ours), averaged per task kind
- ``ollama``     an optional LLM-as-judge over a local Ollama server's REST API
"""

__version__ = "0.1.0"
