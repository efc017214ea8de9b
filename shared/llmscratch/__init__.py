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
- ``llama``      ``LlamaModel``: GPT's sibling (RMSNorm, RoPE, SwiGLU, grouped-query attention), HF Llama weights
- ``gguf``       llama.cpp's GGUF files: reader, Q8_0/Q4_1 dequantizer, config and tokenizer from the metadata
- ``smollm``     SmolLM2-135M-Instruct offline: find and verify the GGUF file, load it, its chat template
- ``evaluation`` bits per byte: comparing language models whose tokenizers differ
- ``spamdata``   chapter 6's labelled messages: the bundled set or the UCI SMS Spam Collection, ``load_sms``
- ``classify``   classification fine-tuning: balance/split, padded dataset, last-real-token head, ``cls_loss``, files
- ``baselines``  majority class and bag-of-words logistic regression, the bars a classifier must clear
- ``spam_finetune`` chapter 6's recipe in one call (last block, LoRA or all layers), measured in a fresh process
- ``lora``       LoRA: low-rank updates on frozen linear layers, ``apply_lora``, ``merge_lora``
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
