"""Text to token ids (chapter 2), and the data set that turns them into training pairs.

- ``words``     chapter 2's regex word tokenizers (``SimpleTokenizerV1``/``V2``)
- ``gpt2``      GPT-2's tokenizer files (offline, checksummed), its ``tiktoken`` encoding and ``GPT2Tokenizer``
- ``bpe``       byte-pair encoding from scratch: merges, pre-tokenization, tokenizer, trainers, GPT-2's merges
- ``gguf_vocab`` the tokenizer that reads a GGUF file's vocabulary (SmolLM2's)
- ``protocol``  the one tokenizer interface everything above offers (``encode``/``decode``/``eos_id``)
- ``dataset``   the sliding-window next-token dataset and ``create_dataloader``
"""
