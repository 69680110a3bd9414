"""Chat templates: how a conversation becomes the exact prompt a model was trained on.

Three templates are written by hand, from the Chinese-LLaMA-Alpaca papers and repositories
(arXiv 2304.08177): ``chinese-alpaca`` (Chinese-Alpaca, -Plus, -Pro), ``chinese-alpaca-2``
(Llama-2 chat format) and ``raw`` (base models, plain continuation). A fourth, ``embedded``,
renders the Jinja ``tokenizer.chat_template`` that a GGUF file carries; that text comes from
whoever made the file, so it is compiled and rendered only in the template sandbox, a separate
process with a memory and a wall-clock limit (``runtime.chat.template_sandbox``).

Hand-written templates keep special tokens (BOS, EOS) as :class:`Special` parts, apart from
the text, so the tokenizer can emit their ids without ever parsing special-token text typed by
the user: a user who types ``</s>`` gets those four characters, not an end-of-sequence.

:func:`fit_prompt` drops the oldest whole turns until the prompt and the answer fit the
context window. Nothing here imports Qt.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from runtime.chat._jinja_sandbox import render_sandboxed
from runtime.errors import PromptTooLong, TemplateError


class Special(enum.Enum):
    """A special token, kept apart from the text so that it is never parsed from user text."""

    BOS = "<s>"
    EOS = "</s>"


Part = str | Special
"""One piece of a prompt: text (tokenized without special-token parsing) or a special token."""


@dataclass(frozen=True)
class Turn:
    """One exchange: the user's message and, once answered, the assistant's answer.

    Attributes:
        user: The instruction the user typed.
        assistant: The answer, or ``None`` while unanswered. On the newest turn a non-empty
            answer is the beginning of the answer that generation continues.
        input: The Alpaca "optional input" (extra context for the instruction).
    """

    user: str
    assistant: str | None = None
    input: str = ""

    @property
    def instruction(self) -> str:
        """The instruction text: the user's message, then the optional input on a new line.

        The paper (section 4.5) joins an Alpaca instruction and its input with a newline.
        """
        return f"{self.user}\n{self.input}" if self.input else self.user


@dataclass(frozen=True)
class ChatPrompt:
    """A rendered prompt, ready for the tokenizer.

    Attributes:
        parts: Text and special tokens, in order.
        stop: Strings that end generation when the model produces them.
        parse_special: True only for Jinja-rendered text, whose special-token text (``<s>``,
            ``<|im_start|>``...) must be parsed into special tokens.
    """

    parts: tuple[Part, ...]
    stop: tuple[str, ...]
    parse_special: bool = False

    @property
    def text(self) -> str:
        """The whole prompt as text, special tokens written as ``<s>`` and ``</s>``.

        This is the exact prompt shown to users and the one golden tests compare.
        """
        return "".join(p.value if isinstance(p, Special) else p for p in self.parts)


@dataclass(frozen=True)
class TemplateInfo:
    """What the GUI shows about a template.

    Attributes:
        name: The registry key (``"chinese-alpaca-2"``).
        label: A short human-readable name.
        default_system: The system prompt used when the caller gives none, or ``None``.
        description: One or two sentences: which models the template is for.
    """

    name: str
    label: str
    default_system: str | None
    description: str


RenderFn = Callable[[Sequence[Turn], str | None], ChatPrompt]

_INFOS: dict[str, TemplateInfo] = {}
_RENDERERS: dict[str, RenderFn] = {}


def register_template(
    name: str, *, label: str, default_system: str | None, description: str
) -> Callable[[RenderFn], RenderFn]:
    """Register a render function under ``name``.

    The function receives the turns (never empty) and the system prompt (already defaulted:
    ``None`` only when the template has no default) and returns a :class:`ChatPrompt`.

    Args:
        name: The registry key.
        label: A short human-readable name.
        default_system: The system prompt used when the caller gives none.
        description: Which models the template is for.

    Returns:
        A decorator that registers the function and returns it unchanged.

    Raises:
        ValueError: If ``name`` is already registered.
    """

    def decorator(fn: RenderFn) -> RenderFn:
        if name in _INFOS:
            raise ValueError(f"chat template {name!r} is already registered")
        _INFOS[name] = TemplateInfo(name, label, default_system, description)
        _RENDERERS[name] = fn
        return fn

    return decorator


def get_template(name: str) -> TemplateInfo:
    """Look up a template by name.

    Raises:
        TemplateError: If no template has that name; the message lists the known ones.
    """
    try:
        return _INFOS[name]
    except KeyError:
        raise TemplateError(f"Unknown chat template {name!r}; choose one of: {', '.join(template_names())}.") from None


def template_names() -> list[str]:
    """All template names, in registration order (the order the GUI lists them)."""
    return list(_INFOS)


def _merge(parts: Sequence[Part]) -> tuple[Part, ...]:
    """Join neighbouring text parts and drop empty ones, so equal prompts compare equal."""
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += part
                continue
        merged.append(part)
    return tuple(merged)


ALPACA_SYSTEM = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request."
)
ALPACA_2_SYSTEM = "You are a helpful assistant. 你是一个乐于助人的助手。"


@register_template(
    "chinese-alpaca",
    label="Chinese-Alpaca (v1, Plus, Pro)",
    default_system=ALPACA_SYSTEM,
    description="Stanford-Alpaca instruction format used to fine-tune Chinese-Alpaca, "
    "Chinese-Alpaca-Plus and -Pro (vocabulary of 49,954 pieces).",
)
def _render_alpaca(turns: Sequence[Turn], system: str | None) -> ChatPrompt:
    # The system prompt opens the conversation once; an empty one is left out entirely
    # rather than leaving two stray newlines at the start.
    text = f"{system}\n\n" if system else ""
    for turn in turns[:-1]:
        text += f"### Instruction:\n\n{turn.instruction}\n\n### Response:\n\n{turn.assistant or ''}\n\n"
    newest = turns[-1]
    text += f"### Instruction:\n\n{newest.instruction}\n\n### Response:\n\n{newest.assistant or ''}"
    # The model was trained on single exchanges; without this stop it writes the next
    # "### Instruction:" itself and goes on talking to itself.
    return ChatPrompt(parts=_merge((Special.BOS, text)), stop=("### Instruction:",))


@register_template(
    "chinese-alpaca-2",
    label="Chinese-Alpaca-2 (Llama-2 chat)",
    default_system=ALPACA_2_SYSTEM,
    description="Llama-2 chat format ([INST] ... [/INST]) used by Chinese-Alpaca-2 (vocabulary of 55,296 pieces).",
)
def _render_alpaca_2(turns: Sequence[Turn], system: str | None) -> ChatPrompt:
    parts: list[Part] = []
    for i, turn in enumerate(turns):
        content = turn.instruction
        if i == 0 and system:
            # Meta's reference folds the system prompt into the first user message and then
            # strips the whole of it, so only the user's trailing whitespace goes; doing the
            # same keeps this identical to the standard Llama-2 Jinja template.
            content = f"<<SYS>>\n{system}\n<</SYS>>\n\n{content}"
        parts += [Special.BOS, f"[INST] {content.strip()} [/INST]"]
        if i < len(turns) - 1:
            parts += [f" {(turn.assistant or '').strip()} ", Special.EOS]
        elif turn.assistant:
            # The beginning of an answer to continue: no closing space or EOS yet.
            parts.append(f" {turn.assistant.lstrip()}")
    return ChatPrompt(parts=_merge(parts), stop=("[INST]",))


@register_template(
    "raw",
    label="Raw text (base models)",
    default_system=None,
    description="No template: the text is continued as written. For base models such as "
    "Chinese-LLaMA and Chinese-LLaMA-2, which were never trained to follow instructions.",
)
def _render_raw(turns: Sequence[Turn], system: str | None) -> ChatPrompt:
    # A base model only continues text, so each answer is the continuation of the text before
    # it and nothing is put between them. A system prompt, when one is given, is plain text
    # in front, set off by a blank line.
    text = f"{system}\n\n" if system else ""
    text += "".join(turn.instruction + (turn.assistant or "") for turn in turns)
    return ChatPrompt(parts=_merge((Special.BOS, text)), stop=())


@register_template(
    "embedded",
    label="Model file's template (Jinja)",
    default_system=None,
    description="The chat template stored in the GGUF file (tokenizer.chat_template), "
    "rendered in a sandbox. For models that are not Chinese-LLaMA or Chinese-Alpaca.",
)
def _render_embedded_without_source(turns: Sequence[Turn], system: str | None) -> ChatPrompt:
    # render() handles "embedded" itself because it needs the template text; this entry only
    # keeps the name, label and description in the one registry.
    raise TemplateError(
        "The model file has no embedded chat template; pick another template.", code="embedded_template_missing"
    )


def render(
    name: str,
    turns: Sequence[Turn],
    *,
    system: str | None = None,
    jinja_source: str | None = None,
    jinja_origin: str | None = None,
    bos_token: str = "<s>",
    eos_token: str = "</s>",
) -> ChatPrompt:
    """Render a conversation with a template.

    Args:
        name: A registered template name.
        turns: The conversation, oldest first; the newest turn is the one to answer.
        system: The system prompt; ``None`` uses the template's default, ``""`` means none.
        jinja_source: The GGUF ``tokenizer.chat_template``; needed for ``"embedded"`` only.
        jinja_origin: The model file ``jinja_source`` came from, named when it is refused.
        bos_token: BOS text for the Jinja template (hand-written ones use :class:`Special`).
        eos_token: EOS text for the Jinja template.

    Returns:
        The prompt. For ``"embedded"`` it is one text part with ``parse_special=True``; it
        contains BOS only where the template writes ``bos_token``.

    Raises:
        TemplateError: Unknown template, no turns, no Jinja source for ``"embedded"``, or an
            embedded template that fails or breaks a sandbox rule or limit.
    """
    info = get_template(name)
    if not turns:
        raise TemplateError("There is no message to answer; write a message first.")
    if system is None:
        system = info.default_system
    if name == "embedded":
        if jinja_source is None:
            return _render_embedded_without_source(turns, system)
        return _render_jinja(jinja_source, jinja_origin, turns, system, bos_token, eos_token)
    return _RENDERERS[name](turns, system)


def _render_jinja(
    source: str, origin: str | None, turns: Sequence[Turn], system: str | None, bos_token: str, eos_token: str
) -> ChatPrompt:
    messages: list[dict[str, str]] = []
    # An empty system prompt means "none": the Llama-2 template, for one, would otherwise
    # write an empty <<SYS>> block.
    if system:
        messages.append({"role": "system", "content": system})
    for i, turn in enumerate(turns):
        messages.append({"role": "user", "content": turn.instruction})
        if i < len(turns) - 1:
            messages.append({"role": "assistant", "content": turn.assistant or ""})
    variables = {
        "messages": messages,
        "add_generation_prompt": True,
        "bos_token": bos_token,
        "eos_token": eos_token,
    }
    text = render_sandboxed(source, variables, origin=origin)
    newest = turns[-1]
    if newest.assistant:
        text += newest.assistant
    return ChatPrompt(parts=(text,), stop=(), parse_special=True)


# --- Context budget -----------------------------------------------------------------------


@dataclass(frozen=True)
class FittedPrompt:
    """A prompt that fits the context window with room for the answer.

    Attributes:
        prompt: The rendered prompt.
        n_tokens: Its length in tokens, as counted by the caller's tokenizer.
        dropped_turns: How many of the oldest turns were left out to make it fit.
    """

    prompt: ChatPrompt
    n_tokens: int
    dropped_turns: int


def fit_prompt(
    name: str,
    turns: Sequence[Turn],
    *,
    count_tokens: Callable[[ChatPrompt], int],
    n_ctx: int,
    max_tokens: int,
    system: str | None = None,
    jinja_source: str | None = None,
    jinja_origin: str | None = None,
    bos_token: str = "<s>",
    eos_token: str = "</s>",
) -> FittedPrompt:
    """Render the conversation so that the prompt plus ``max_tokens`` fits ``n_ctx``.

    The oldest whole turns are dropped first; the system prompt and the newest turn are
    always kept. Each candidate is counted in full with ``count_tokens`` (token-exact, since
    templates add tokens between turns). Dropping turns never makes a prompt longer, so a
    binary search over the number dropped needs only O(log n) counts.

    Args:
        name: A registered template name.
        turns: The conversation, oldest first; the newest turn is the one to answer.
        count_tokens: The model's token count of a rendered prompt.
        n_ctx: The context window in tokens.
        max_tokens: The most tokens the answer may take.
        system: The system prompt; ``None`` uses the template's default.
        jinja_source: The GGUF chat template, for ``"embedded"``.
        jinja_origin: The model file it came from, named when it is refused.
        bos_token: BOS text for the Jinja template.
        eos_token: EOS text for the Jinja template.

    Returns:
        The fitted prompt, its token count and how many turns were dropped.

    Raises:
        PromptTooLong: If even the newest turn alone (with the system prompt) does not fit.
        TemplateError: As :func:`render`.
    """
    budget = n_ctx - max_tokens

    def attempt(dropped: int) -> tuple[ChatPrompt, int]:
        prompt = render(
            name,
            turns[dropped:],
            system=system,
            jinja_source=jinja_source,
            jinja_origin=jinja_origin,
            bos_token=bos_token,
            eos_token=eos_token,
        )
        return prompt, count_tokens(prompt)

    # Most prompts fit as they are: one render, one count.
    prompt, n_tokens = attempt(0)
    if n_tokens <= budget:
        return FittedPrompt(prompt, n_tokens, 0)
    newest = len(turns) - 1
    best = (*attempt(newest), newest) if newest > 0 else (prompt, n_tokens, 0)
    if best[1] > budget:
        raise PromptTooLong(
            f"The message needs {best[1]} prompt tokens and the answer up to {max_tokens} new "
            f"tokens, but the context holds only {n_ctx} tokens, even with all earlier messages "
            "left out. Shorten the message, lower max new tokens, or raise the context size.",
            code="prompt_too_long",
            params={"n_tokens": best[1], "max_tokens": max_tokens, "n_ctx": n_ctx},
        )
    # Invariant: dropping `low` turns does not fit, dropping best[2] does.
    low = 0
    while best[2] - low > 1:
        mid = (low + best[2]) // 2
        prompt, n_tokens = attempt(mid)
        if n_tokens <= budget:
            best = (prompt, n_tokens, mid)
        else:
            low = mid
    return FittedPrompt(*best)


# --- Choosing a template ------------------------------------------------------------------

ALPACA_VOCAB = 49954
LLAMA_VOCAB = 49953
ALPACA_2_VOCAB = 55296


def choose_template(*, vocab_size: int | None, name: str | None, has_chat_template: bool) -> str:
    """Pick the template for a model from what its GGUF file says.

    The rules, first match wins (``name`` is GGUF ``general.name`` or the file name,
    compared lowercased):

    1. name contains ``alpaca-2``, ``alpaca2`` or ``alpaca_2`` -> ``chinese-alpaca-2``;
    2. name contains ``alpaca`` -> ``chinese-alpaca``;
    3. vocabulary of 49,954 (Chinese-Alpaca, -Plus, -Pro) -> ``chinese-alpaca``;
    4. vocabulary of 55,296, shared by Chinese-Alpaca-2 and the Chinese-LLaMA-2 base models:
       ``chinese-alpaca-2`` if the name contains ``chat`` or the file has a chat template
       (both mark a chat model), else ``raw`` (a base model);
    5. vocabulary of 49,953 (Chinese-LLaMA, -Plus base models) -> ``raw``;
    6. any other model with an embedded chat template -> ``embedded``;
    7. otherwise ``raw``.

    Args:
        vocab_size: The number of tokens in the vocabulary, if known.
        name: The model's name, if known.
        has_chat_template: Whether the file carries ``tokenizer.chat_template``.

    Returns:
        A registered template name.
    """
    lowered = (name or "").lower()
    if any(tag in lowered for tag in ("alpaca-2", "alpaca2", "alpaca_2")):
        return "chinese-alpaca-2"
    if "alpaca" in lowered:
        return "chinese-alpaca"
    if vocab_size == ALPACA_VOCAB:
        return "chinese-alpaca"
    if vocab_size == ALPACA_2_VOCAB:
        return "chinese-alpaca-2" if "chat" in lowered or has_chat_template else "raw"
    if vocab_size == LLAMA_VOCAB:
        return "raw"
    if has_chat_template:
        return "embedded"
    return "raw"
