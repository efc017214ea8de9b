"""Fine-tuning (chapters 6-7): a spam classifier and an instruction follower, and how to score them.

- ``spam_data``        chapter 6's labelled messages (bundled, or the UCI collection when online)
- ``classify_data``    balance, split, padded dataset and loader for classification
- ``classify``         the classification head, pooling, loss, accuracy, saving and loading
- ``baselines``        majority class and bag-of-words logistic regression
- ``spam_finetune``    chapter 6's recipe in one call, measured (``python -m llmscratch.finetune.spam_finetune``)
- ``seed_runs``        one method over several seeds: mean, standard deviation and range of each accuracy
- ``prompts``          the instruction prompt format, chat format, fitting a prompt, extracting a response
- ``instruct_data``    chapter 7's instruction set (bundled, or Stanford Alpaca online), validated, split
- ``instruct``         pre-tokenized dataset, collate, the model's responses to the test set
- ``instruct_gen``, ``instruct_kinds``, ``instruct_kinds_compute``, ``instruct_tables``  the bundled
                       set: its generator, one generator per task kind (word and fact kinds; kinds
                       computed from numbers or records), and the word and fact tables they draw from
- ``metrics``          exact match, token F1, ROUGE-L, per task kind
- ``preference_data``, ``preference_variants``  preference pairs for DPO: chosen = the reference,
                       rejected = a rule-made wrong (or rambling) answer or the model's own wrong one
- ``dpo``              direct preference optimization: pair collate, response log-probs, DPO/IPO loss
- ``judge``            an optional LLM-as-judge over a local Ollama server
- ``rl_tasks``         questions a program can check (new ones, none from chapter 7) and their rewards
- ``grpo``, ``grpo_train``  GRPO: advantages, the clipped loss with a KL penalty; sampling, updates, evaluation
"""
