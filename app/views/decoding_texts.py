"""The decoding panel's words for what runtime/ names: parameters, chat templates and presets.

runtime/ cannot use Qt's tr(), so the labels and tooltips of its names are translated here, each
in a literal call so that lupdate finds it. They are translated in the ``DecodingPanel`` context,
where the panel built them before they had a module of their own, so the translations made for
it still apply.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from runtime.chat.templates import get_template

__all__ = ["parameter_text", "preset_text", "template_text"]


def parameter_text(name: str) -> tuple[str, str]:
    """The label and tooltip of a parameter of :data:`runtime.decoding.RANGES`."""
    if name == "n_ctx":
        return (
            QCoreApplication.translate("DecodingPanel", "Context size"),
            QCoreApplication.translate(
                "DecodingPanel",
                "How many tokens the model sees at once: the prompt, the earlier messages and "
                "the answer together. Larger contexts need more memory.",
            ),
        )
    if name == "max_tokens":
        return (
            QCoreApplication.translate("DecodingPanel", "Max new tokens"),
            QCoreApplication.translate(
                "DecodingPanel", "The longest answer, in tokens. It must be smaller than the context size."
            ),
        )
    if name == "temperature":
        return (
            QCoreApplication.translate("DecodingPanel", "Temperature"),
            QCoreApplication.translate(
                "DecodingPanel",
                "Randomness of the answer: low values are focused and repeatable, high values "
                "more varied. 0 always picks the most likely token.",
            ),
        )
    if name == "top_k":
        return (
            QCoreApplication.translate("DecodingPanel", "Top-k"),
            QCoreApplication.translate(
                "DecodingPanel", "Sample only from the k most likely tokens. 0 turns this limit off."
            ),
        )
    if name == "top_p":
        return (
            QCoreApplication.translate("DecodingPanel", "Top-p"),
            QCoreApplication.translate(
                "DecodingPanel",
                "Sample only from the most likely tokens whose probabilities add up to p "
                "(nucleus sampling). 1 turns this limit off.",
            ),
        )
    if name == "repeat_penalty":
        return (
            QCoreApplication.translate("DecodingPanel", "Repetition penalty"),
            QCoreApplication.translate(
                "DecodingPanel", "Makes tokens that already appeared less likely, against loops. 1 means no penalty."
            ),
        )
    # A parameter added to RANGES later still gets a control, under its own name.
    return name, ""


def template_text(name: str) -> tuple[str, str]:
    """The translated label and description of a chat template."""
    if name == "chinese-alpaca":
        return (
            QCoreApplication.translate("DecodingPanel", "Chinese-Alpaca (v1, Plus, Pro)"),
            QCoreApplication.translate(
                "DecodingPanel",
                "Stanford-Alpaca instruction format used to fine-tune Chinese-Alpaca, Chinese-Alpaca-Plus "
                "and -Pro (vocabulary of 49,954 pieces).",
            ),
        )
    if name == "chinese-alpaca-2":
        return (
            QCoreApplication.translate("DecodingPanel", "Chinese-Alpaca-2 (Llama-2 chat)"),
            QCoreApplication.translate(
                "DecodingPanel",
                "Llama-2 chat format ([INST] ... [/INST]) used by Chinese-Alpaca-2 (vocabulary of 55,296 pieces).",
            ),
        )
    if name == "raw":
        return (
            QCoreApplication.translate("DecodingPanel", "Raw text (base models)"),
            QCoreApplication.translate(
                "DecodingPanel",
                "No template: the text is continued as written. For base models such as Chinese-LLaMA and "
                "Chinese-LLaMA-2, which were never trained to follow instructions.",
            ),
        )
    if name == "embedded":
        return (
            QCoreApplication.translate("DecodingPanel", "Model file's template (Jinja)"),
            QCoreApplication.translate(
                "DecodingPanel",
                "The chat template stored in the GGUF file (tokenizer.chat_template), rendered in a sandbox. "
                "For models that are not Chinese-LLaMA or Chinese-Alpaca.",
            ),
        )
    # A template registered later shows its own (English) text until it is translated here.
    info = get_template(name)
    return info.label, info.description


def preset_text(key: str) -> str:
    """The translated name of a preset of :data:`runtime.decoding.PRESETS`."""
    if key == "single-turn (paper)":
        return QCoreApplication.translate("DecodingPanel", "Single-turn (paper)")
    if key == "multi-turn chat":
        return QCoreApplication.translate("DecodingPanel", "Multi-turn chat")
    return key
