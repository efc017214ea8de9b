"""Figures the notebooks draw (matplotlib only, no remote images), split by topic.

- ``text``          tokens and sliding windows (chapter 2)
- ``attention``     attention weights, queries/keys/values, heads (chapter 3), RoPE
- ``architecture``  diagrams of the model: GPT, its block, embeddings, the KV cache (chapters 2-4)
- ``matrices``      small matrices side by side, joined by operators (lookups, masks, sums)
- ``layers``        numbers measured on chapter 4's layers: LayerNorm, GELU, sizes per layer, logits
- ``course``        the course's pipeline (chapter 1) and chapter 6's classification stages
- ``style``         the colours, boxes and arrows the diagrams share
- ``training``      loss curves, decoding distributions and the top-k/top-p cutoff, schedules,
                    accuracies, scores per task kind
- ``finetune``      chapter 6: a padded batch under the causal mask, trainable parameters, LoRA's update
- ``instruct``      chapter 7: one prompt's tokens by section, collate's inputs/targets and ignore index
- ``preference``    chapter 7's DPO bonus: the loss against the margin, loss/margin/accuracy curves
- ``families``      chapter 5's bonus on later families: QK-norm runs, sliding-window masks, cache
                    growth, expert load, KV cache against context length

Every function is re-exported here, so a notebook writes ``from llmscratch import plots`` and
``plots.plot_losses(history)``.
"""

from .architecture import plot_embedding_lookup, plot_gpt_model, plot_kv_cache_steps, plot_transformer_block
from .attention import (
    plot_attention_heads,
    plot_attention_weights,
    plot_head_split,
    plot_qkv_attention,
    plot_rnn_vs_attention,
    plot_rope,
    plot_score_scaling,
    plot_token_heatmap,
)
from .course import plot_classification_stages, plot_llm_pipeline
from .families import (
    plot_cache_growth,
    plot_cache_vs_context,
    plot_expert_load,
    plot_qk_norm_runs,
    plot_window_masks,
)
from .finetune import plot_lora_update, plot_padded_batch_mask, plot_trainable_layers
from .instruct import plot_collate_mask, plot_prompt_template
from .layers import (
    plot_activation_gradients,
    plot_layernorm_effect,
    plot_logit_distributions,
    plot_parameter_breakdown,
    plot_per_layer,
)
from .matrices import plot_matrices
from .preference import plot_dpo_loss, plot_preference_training
from .text import (
    plot_shifted_batch,
    plot_sliding_windows,
    plot_token_lengths,
    plot_token_rows,
    plot_tokenization,
    plot_vocab_growth,
    show_token,
)
from .training import (
    plot_accuracy_comparison,
    plot_curves,
    plot_losses,
    plot_metrics_by_kind,
    plot_sampling_cutoff,
    plot_seed_spread,
    plot_token_distributions,
)

__all__ = [
    "plot_accuracy_comparison",
    "plot_activation_gradients",
    "plot_attention_heads",
    "plot_attention_weights",
    "plot_cache_growth",
    "plot_cache_vs_context",
    "plot_dpo_loss",
    "plot_classification_stages",
    "plot_collate_mask",
    "plot_curves",
    "plot_embedding_lookup",
    "plot_expert_load",
    "plot_gpt_model",
    "plot_head_split",
    "plot_kv_cache_steps",
    "plot_layernorm_effect",
    "plot_llm_pipeline",
    "plot_logit_distributions",
    "plot_lora_update",
    "plot_losses",
    "plot_matrices",
    "plot_metrics_by_kind",
    "plot_padded_batch_mask",
    "plot_parameter_breakdown",
    "plot_per_layer",
    "plot_preference_training",
    "plot_prompt_template",
    "plot_qk_norm_runs",
    "plot_qkv_attention",
    "plot_rnn_vs_attention",
    "plot_rope",
    "plot_sampling_cutoff",
    "plot_seed_spread",
    "plot_score_scaling",
    "plot_shifted_batch",
    "plot_sliding_windows",
    "plot_token_distributions",
    "plot_token_heatmap",
    "plot_token_lengths",
    "plot_token_rows",
    "plot_tokenization",
    "plot_trainable_layers",
    "plot_transformer_block",
    "plot_vocab_growth",
    "plot_window_masks",
    "show_token",
]
