"""llmscratch: the finished components of the book-style GPT, laid out as a map of the course.

The chapter notebooks build every piece here by hand first, prove their version equals the one in
this package (a *handover cell* asserts identical outputs), and from then on import it from here.

Lowest layer first; an import only ever points down this list (import-linter checks it in the tests):

- the floor: ``settings`` (quick mode, cache folder, seeding: the only env reader), ``device``,
  ``constants`` (``EOT_ID``, ``IGNORE_INDEX``, ...), ``fileio`` (atomic writes), ``downloads`` (the
  registry: checksum, cache, offline error; it knows no data set), ``assets`` (text we wrote)
- ``text``      chapter 2: word tokenizers, GPT-2's encoding, BPE from scratch, the GGUF-vocabulary
                tokenizer, the one tokenizer protocol, the next-token dataset
- ``model``     chapters 3-4: config, attention, KV cache, embeddings, block, GPT, Llama, LoRA, generation
- ``training``  chapter 5: losses, the loop, schedules, precision, distributed, checkpoints, the CLI
                (``python -m llmscratch.training.pretrain``)
- ``weights``   published weights: GPT-2 from the Hub, the GGUF reader, Llama key maps, SmolLM2, the
                backbone chapters 6-7 start from
- ``finetune``  chapters 6-7: classification data and recipe, baselines, prompts, instruction data,
                collate, metrics, the optional judge
- ``chat`` (``python -m llmscratch.chat``; the models it loads and saves: ``chat_models``), ``plots`` (figures by topic), ``testing`` (the
  notebook <-> package check)

Each subpackage's docstring lists its modules.
"""

__version__ = "0.1.0"
