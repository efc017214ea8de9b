"""SmolLM2-135M-Instruct from its GGUF file: load time, logit agreement and greedy tokens/s, ours vs transformers.

    python benchmarks/llama_generation.py                     # the real model, 100 new tokens, 1 thread
    python benchmarks/llama_generation.py --tiny              # smoke test: a tiny random Llama written as GGUF
    python benchmarks/llama_generation.py --wall --threads 2  # wall-clock time on 2 threads

Both sides read the same file: ours with ``llmscratch.weights.gguf`` (``load_smollm2``), the reference
with transformers' GGUF loader (``LlamaForCausalLM.from_pretrained(folder, gguf_file=...)``, which
uses llama.cpp's ``gguf`` package and needs ``accelerate``). Printed: load seconds of each and
their ratio; the max absolute difference of the logits on a chat prompt; greedy generation
(batch 1, KV cache on both sides) in tokens/s and the ratio; whether the tokens are identical.

By default torch runs on ONE thread and the clock is the process's CPU time (robust on a shared
machine; loading includes file reading, so its CPU time is close to wall time on an idle disk).
``--tiny`` writes a small random Llama model with the ``gguf`` writer into a temporary folder, so
the script runs in seconds without SmolLM2 installed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))

from llmscratch.model.generate import generate  # noqa: E402
from llmscratch.model.gpt import count_parameters  # noqa: E402
from llmscratch.model.llama import LlamaConfig, LlamaModel  # noqa: E402
from llmscratch.weights.gguf import read_gguf  # noqa: E402
from llmscratch.weights.llama import gguf_key_map, load_llama_gguf, permute_rope_rows

CLOCK = time.process_time


def timed(fn):
    start = CLOCK()
    out = fn()
    return out, CLOCK() - start


def write_tiny_gguf(folder: Path) -> Path:
    """A random 2-layer Llama (GQA) as a Q8_0/Q4_1 GGUF file, written with llama.cpp's ``gguf`` writer."""
    import gguf
    import numpy as np

    cfg = LlamaConfig(
        vocab_size=512, context_length=256, emb_dim=128, n_heads=4, n_kv_heads=2, n_layers=2, hidden_dim=320
    )
    torch.manual_seed(0)
    model = LlamaModel(cfg)
    path = folder / "tiny-llama.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    (
        w.add_block_count(cfg.n_layers),
        w.add_context_length(cfg.context_length),
        w.add_embedding_length(cfg.emb_dim),
    )
    (
        w.add_feed_forward_length(cfg.hidden_dim),
        w.add_head_count(cfg.n_heads),
        w.add_head_count_kv(cfg.n_kv_heads),
    )
    (
        w.add_rope_freq_base(cfg.rope_base),
        w.add_layer_norm_rms_eps(cfg.norm_eps),
        w.add_vocab_size(cfg.vocab_size),
    )
    # transformers' GGUF loader also wants a tokenizer in the metadata: 256 byte tokens + merges of a+b
    from llmscratch.text.gpt2 import bytes_to_unicode

    show = bytes_to_unicode()
    tokens = [show[b] for b in range(256)]
    merges = []
    for i in range(cfg.vocab_size - 256):
        a, b = tokens[65 + i % 26], tokens[97 + (i // 26) % 26]
        if a + b not in tokens:
            merges.append(f"{a} {b}")
            tokens.append(a + b)
    tokens += [f"<extra_{i}>" for i in range(cfg.vocab_size - len(tokens))]
    w.add_tokenizer_model("gpt2"), w.add_token_list(tokens), w.add_token_merges(merges)
    w.add_token_types([1] * cfg.vocab_size), w.add_bos_token_id(0), w.add_eos_token_id(1)
    state = model.state_dict()
    for ours, theirs in gguf_key_map(cfg.n_layers, cfg.tie_embeddings).items():
        t = state[ours]
        if "W_query" in ours:
            t = permute_rope_rows(t, cfg.n_heads)
        elif "W_key" in ours:
            t = permute_rope_rows(t, cfg.n_kv_heads)
        t = t.numpy().astype(np.float32)
        if t.ndim == 1:
            w.add_tensor(theirs, t)
        else:
            qtype = (
                gguf.GGMLQuantizationType.Q8_0
                if theirs == "token_embd.weight"
                else gguf.GGMLQuantizationType.Q4_1
            )
            w.add_tensor(theirs, gguf.quants.quantize(t, qtype), raw_dtype=qtype)
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_tensors_to_file(), w.close()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tiny", action="store_true", help="a tiny random model instead of SmolLM2 (smoke test)"
    )
    parser.add_argument("--new-tokens", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--wall", action="store_true", help="wall-clock time instead of process CPU time")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.perf_counter if args.wall else time.process_time
    torch.set_num_threads(args.threads)
    import transformers

    with tempfile.TemporaryDirectory() as tmp:
        if args.tiny:
            path = write_tiny_gguf(Path(tmp))
            prompt = torch.randint(0, 256, (1, 20), generator=torch.Generator().manual_seed(0))
        else:
            from llmscratch.weights.smollm import chat_prompt, smollm2_gguf_path

            path = smollm2_gguf_path()
        ours, t_ours = timed(lambda: load_llama_gguf(path))
        hf, t_hf = timed(
            lambda: transformers.LlamaForCausalLM.from_pretrained(
                str(path.parent), gguf_file=path.name, dtype=torch.float32
            ).eval()
        )
        if not args.tiny:
            from llmscratch.text.gguf_vocab import tokenizer_from_gguf

            tok = tokenizer_from_gguf(read_gguf(path))
            prompt = torch.tensor(
                [
                    tok.encode(
                        chat_prompt([{"role": "user", "content": "Tell me a story about a lighthouse."}]),
                        allowed_special="all",
                    )
                ]
            )
        clock = "wall-clock" if args.wall else "process CPU"
        print(
            f"{path.name}: {count_parameters(ours):,} parameters, torch {torch.__version__} on {args.threads} thread(s), "
            f"transformers {transformers.__version__}; {clock} seconds\n"
        )
        print(
            f"load:   ours {t_ours:6.2f} s   transformers {t_hf:6.2f} s   ratio (transformers / ours) {t_hf / t_ours:5.1f}x"
        )
        with torch.no_grad():
            diff = (ours(prompt) - hf(prompt).logits).abs().max().item()
        print(f"logits: max abs difference {diff:.2e} on a {prompt.shape[1]}-token prompt")

        n = args.new_tokens
        generate(ours, prompt, 3)  # warm-up
        mine, t_gen = timed(lambda: generate(ours, prompt, n))
        kwargs = dict(
            attention_mask=torch.ones_like(prompt),
            max_new_tokens=n,
            min_new_tokens=n,
            do_sample=False,
            pad_token_id=0,
        )
        with torch.no_grad():
            hf.generate(prompt, **{**kwargs, "max_new_tokens": 3, "min_new_tokens": 3})  # warm-up
            theirs, t_hf_gen = timed(lambda: hf.generate(prompt, use_cache=True, **kwargs))
        print(
            f"greedy: ours {n / t_gen:6.1f} tokens/s   transformers {n / t_hf_gen:6.1f} tokens/s   "
            f"ratio (ours / transformers) {t_hf_gen / t_gen:5.2f}x"
        )
        print(f"same {n} tokens: {mine.tolist() == theirs.tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
