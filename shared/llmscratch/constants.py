"""Constants that several modules share, at the bottom of the import graph (this file imports nothing).

Defined once so that no module has to import the tokenizer just to know a number, and no notebook
writes a bare ``50256``:

- ``ENDOFTEXT`` / ``EOT_ID``: GPT-2's end-of-text token, the separator between documents and the
  padding token of chapters 6-7;
- ``GPT2_VOCAB_SIZE``: 256 byte tokens + 50,000 merges + ``<|endoftext|>``;
- ``ATTN_IMPLS``: the ways a ``GPTModel`` block can compute attention (``GPTConfig.attn_impl``);
- ``IGNORE_INDEX``: the target value ``F.cross_entropy`` skips (its ``ignore_index`` default), used
  to leave padding and prompt tokens out of a loss.
"""

ENDOFTEXT = "<|endoftext|>"
EOT_ID = 50256  # id of <|endoftext|> in GPT-2's vocabulary (its last entry)
GPT2_VOCAB_SIZE = 50257  # 256 bytes + 50,000 merges + <|endoftext|>
IGNORE_INDEX = -100  # F.cross_entropy(..., ignore_index=-100) is PyTorch's default
ATTN_IMPLS = (
    "sdpa",
    "teaching",
)  # F.scaled_dot_product_attention / chapter 3's masked softmax (attention.attend)

# SHA-256 of GPT-2's genuine tokenizer files (the same hashes tiktoken checks).
GPT2_VOCAB_BPE_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
GPT2_ENCODER_JSON_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
