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
- ``spamdata``   chapter 6's labelled messages: the bundled set or the UCI SMS Spam Collection, ``load_sms``
- ``classify``   classification fine-tuning: balance/split, padded dataset, last-real-token head, ``cls_loss``, files
- ``baselines``  majority class and bag-of-words logistic regression, the bars a classifier must clear
- ``lora``       LoRA: low-rank updates on frozen linear layers, ``apply_lora``, ``merge_lora``
"""

__version__ = "0.1.0"
