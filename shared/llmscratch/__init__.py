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
- ``losses``     ``lm_loss`` (next-token cross-entropy, skips ``IGNORE_INDEX``) and the loss over a loader
- ``train``      the training loop shared by chapters 5-7, returning a ``History``; exact resume
- ``schedules``  learning-rate warmup + cosine decay as pure functions of the step
- ``checkpoint`` atomic, code-free checkpoints (safetensors): model, optimizer, RNG, history, schedule
- ``precision``  bf16 autocast where the hardware makes it faster, fp32 elsewhere
- ``hub``        OpenAI's GPT-2 weights from the Hugging Face Hub (pinned revisions) into ``GPTModel``
- ``distributed`` rank, world size, set-up/tear-down of a ``torchrun`` process group, print on rank 0
- ``pretrain``   ``python -m llmscratch.pretrain``: train on any text, on one CPU or many GPUs
"""

__version__ = "0.1.0"
