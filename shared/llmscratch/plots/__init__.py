"""Figures the notebooks draw (matplotlib only, no remote images), split by topic.

- ``text``          tokens and sliding windows (chapter 2)
- ``attention``     attention weights, queries/keys/values, heads (chapter 3), RoPE
- ``architecture``  diagrams of the model: GPT, its block, embeddings, the KV cache (chapters 2-4)
- ``course``        the course's pipeline (chapter 1) and chapter 6's classification stages
- ``style``         the colours, boxes and arrows the diagrams share
- ``training``      loss curves, decoding distributions, schedules, accuracies, scores per task kind

Every function is re-exported here, so a notebook writes ``from llmscratch import plots`` and
``plots.plot_losses(history)``.
"""

from .architecture import plot_embedding_lookup, plot_gpt_model, plot_kv_cache_steps, plot_transformer_block
from .attention import (
    plot_attention_weights,
    plot_head_split,
    plot_qkv_attention,
    plot_rnn_vs_attention,
    plot_rope,
    plot_token_heatmap,
)
from .course import plot_classification_stages, plot_llm_pipeline
from .text import plot_sliding_windows, plot_token_rows, show_token
from .training import (
    plot_accuracy_comparison,
    plot_curves,
    plot_losses,
    plot_metrics_by_kind,
    plot_token_distributions,
)

__all__ = [
    "plot_accuracy_comparison",
    "plot_attention_weights",
    "plot_classification_stages",
    "plot_curves",
    "plot_embedding_lookup",
    "plot_gpt_model",
    "plot_head_split",
    "plot_kv_cache_steps",
    "plot_llm_pipeline",
    "plot_losses",
    "plot_metrics_by_kind",
    "plot_qkv_attention",
    "plot_rnn_vs_attention",
    "plot_rope",
    "plot_sliding_windows",
    "plot_token_distributions",
    "plot_token_heatmap",
    "plot_token_rows",
    "plot_transformer_block",
    "show_token",
]
