"""Training (chapter 5): losses, the loop, schedules, precision, several processes, checkpoints.

- ``losses``        next-token cross-entropy that skips ``IGNORE_INDEX``, and the loss over a loader
- ``bits_per_byte`` comparing language models whose tokenizers differ
- ``history``       ``History``, the record a training run returns and a checkpoint stores
- ``loop``          ``train()``, shared by chapters 5-7, with exact resume
- ``schedules``     warmup + cosine decay as pure functions of the step
- ``precision``     bf16 autocast where the hardware makes it faster
- ``distributed``   rank, world size, ``torchrun`` set-up and tear-down
- ``checkpoint``    atomic, code-free checkpoints (safetensors); knows no training loop
- ``pretrain``      ``python -m llmscratch.training.pretrain``: train on any text, one CPU or many GPUs
"""
