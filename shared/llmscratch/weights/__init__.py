"""Published weights into our models: GPT-2 from the Hub, Llama-family models from GGUF files.

- ``gpt2``      GPT-2's (Hugging Face) weight layout <-> ``GPTModel``, a shape check per tensor
- ``hub``       OpenAI's GPT-2 weights from the Hugging Face Hub (pinned revisions)
- ``gguf``      llama.cpp's GGUF format: bytes to named tensors and metadata, dequantized; nothing more
- ``llama``     Hugging Face and GGUF key maps into ``LlamaModel``, and the assembly from a GGUF file
- ``qwen3``     Hugging Face's Qwen3 layout -> ``Qwen3Model`` (Llama's map plus QK-norm); Qwen3-0.6B pinned
- ``gemma3``    Hugging Face's Gemma 3 text layout -> ``Gemma3Model`` (four norms per layer); gemma-3-270m pinned
- ``smollm``    SmolLM2-135M-Instruct offline: find and verify its file, load it, its chat template
- ``backbone``  the pretrained model chapters 6-7 start from: GPT-2, SmolLM2, chapter 5's, or random
"""
