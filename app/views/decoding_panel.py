"""The side panel of decoding controls (long on purpose: every control with its tooltip and its
limits), for sampling parameters, presets, chat template and preview.

The panel lays the controls out and keeps the parameters, the preset shown, the template choice
and the system prompt consistent. Every numeric control is a
:class:`~app.views.decoding_controls.NumberControl` built from :data:`runtime.decoding.RANGES`, so
the panel and the validation in :class:`runtime.decoding.DecodingParams` never disagree about what
is allowed; the prompt preview, which renders off the GUI thread, is
:class:`~app.views.prompt_preview.PromptPreview`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.plan_texts import context_plan_text
from app.views.decoding_controls import NumberControl, WheelGuard
from app.views.decoding_texts import parameter_text, preset_text, template_text
from app.views.draft_model_row import DraftModelRow
from app.views.prompt_preview import PREVIEW_DEBOUNCE_MS, PromptPreview
from runtime.chat import usable_cores
from runtime.chat.templates import Turn, get_template, render, template_names
from runtime.decoding import DEFAULT_MAX_CONTEXT, PRESETS, RANGES, DecodingParams
from runtime.models.plan import plan

if TYPE_CHECKING:
    from runtime.models.machine import Machine
    from runtime.models.plan import ModelShape

__all__ = ["DEFAULT_TEMPLATE", "PREVIEW_DEBOUNCE_MS", "SEED_MAX", "DecodingPanel"]

# The seed spin box is a QSpinBox, whose value is a C int.
SEED_MAX = 2**31 - 1
DEFAULT_TEMPLATE = "raw"


class DecodingPanel(QWidget):
    """The decoding side panel: sampling parameters, presets, chat template and prompt preview.

    Setters emit the matching signal when they change the value, as Qt's own widgets do;
    setting the value the panel already shows emits nothing.

    Signals:
        params_changed(object): The :class:`~runtime.decoding.DecodingParams` after any change.
        template_changed(object): The template choice, a template name or ``None`` for
            automatic (from the model).
        system_prompt_changed(object): The system prompt, a string or ``None`` when empty
            (the template's default).
        preview_rendered(str): The preview shows a newly rendered prompt (or why there is none).
        threads_changed(object): The decode thread count chosen, or ``None`` for automatic.
        kv_type_changed(str): The KV cache type chosen (f16, q8_0, q4_0): applies from the next load.
        context_full_changed(str): What a full context does now: ``drop_oldest`` or ``stop``.
        speculative_changed(str): The speculative decoding mode chosen (off, lookup, auto, draft):
            applies from the next load.
        draft_model_changed(str): The draft model file shown changed ("" for none).
        draft_model_requested(): "Draft model…" was clicked: the owner asks for a file and
            shows it with :meth:`set_draft_model`.
    """

    threads_changed = Signal(object)
    kv_type_changed = Signal(str)
    context_full_changed = Signal(str)
    speculative_changed = Signal(str)
    draft_model_changed = Signal(str)
    draft_model_requested = Signal()
    params_changed = Signal(object)
    template_changed = Signal(object)
    system_prompt_changed = Signal(object)
    preview_rendered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bulk = False
        self._auto_template: str | None = None
        self._jinja_source: str | None = None
        self._jinja_origin: str | None = None
        self._turns: list[Turn] = []
        self._draft = ""
        self._wheel_guard = WheelGuard(self)
        # The loaded model's trained context (None: no model) and what the context's memory is
        # planned from (its shape, read once per file off this thread, and this computer).
        self._trained_context: int | None = None
        self._plan_inputs: tuple[ModelShape, Machine] | None = None

        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(self._build_sampling_group())
        column.addWidget(self._build_template_group(), 1)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # Sideways too, only when the panel is narrower than its controls need (beside the
        # tokenizer panel in an 800-pixel window): cutting them at the edge hid their text.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self._apply(DecodingParams())
        self._last_params = self.params()
        self._last_template: str | None = None
        self._last_system: str | None = None
        self._sync_preset()
        self._update_system_placeholder()
        self._preview.render_now()

    # --- Building -------------------------------------------------------------------------

    def _build_sampling_group(self) -> QGroupBox:
        group = QGroupBox(self.tr("Sampling"))
        grid = QGridLayout(group)
        grid.setColumnStretch(0, 1)
        grid.setVerticalSpacing(2)
        row = 0

        preset_label = QLabel(self.tr("Preset"))
        self._preset = QComboBox()
        self._preset.setToolTip(
            self.tr(
                "Settings from the Chinese-LLaMA paper: temperature 0.2 for single answers, 0.5 for multi-turn chat."
            )
        )
        for key in PRESETS:
            self._preset.addItem(preset_text(key), key)
        # "Custom" is shown when the values match no preset; it cannot be chosen, since
        # choosing it would have nothing to apply.
        self._preset.addItem(self.tr("Custom"), None)
        self._custom_index = self._preset.count() - 1
        model = cast(QStandardItemModel, self._preset.model())
        model.item(self._custom_index).setEnabled(False)
        self._preset.activated.connect(self._preset_chosen)
        preset_label.setBuddy(self._preset)
        # On its own row, like the template's combo box: beside its label the longest preset
        # name would make the panel wider than its usual 300 pixels.
        grid.addWidget(preset_label, row, 0, 1, 2)
        grid.addWidget(self._preset, row + 1, 0, 1, 2)
        row += 2
        grid.setRowMinimumHeight(row, 6)
        row += 1

        self._controls: dict[str, NumberControl] = {}
        for name, rng in RANGES.items():
            label, tooltip = parameter_text(name)
            control = NumberControl(rng, label, tooltip, group)
            self._controls[name] = control
            grid.addWidget(control.label, row, 0)
            grid.addWidget(control.spin, row, 1)
            grid.addWidget(control.slider, row + 1, 0, 1, 2)
            grid.setRowMinimumHeight(row + 2, 6)
            row += 3
            for widget in (control.slider, control.spin):
                self._wheel_guard.guard(widget)
            if name == "n_ctx":
                control.set_maximum(DEFAULT_MAX_CONTEXT)
                # Connected before _values_changed, so max_tokens is clamped before anyone
                # reads the new parameters.
                control.spin.valueChanged.connect(self._n_ctx_changed)
                # The memory the chosen context would take, under its slider (empty until a
                # model is loaded: the plan needs its shape).
                self._context_plan = QLabel()
                self._context_plan.setWordWrap(True)
                self._context_plan.setToolTip(
                    self.tr(
                        "Memory planned for the loaded model at this context size and KV cache type: "
                        "its weights, the KV cache and the working buffers."
                    )
                )
                self._context_plan.hide()
                grid.addWidget(self._context_plan, row - 1, 0, 1, 2)
                grid.setRowMinimumHeight(row, 6)
                row += 1
            control.spin.valueChanged.connect(self._values_changed)

        self._random_seed = QCheckBox(self.tr("Random seed"))
        self._random_seed.setChecked(True)
        self._random_seed.setToolTip(
            self.tr(
                "Use a new random seed for every answer. Untick it and choose a seed to get "
                "the same answer again for the same prompt and settings."
            )
        )
        self._seed = QSpinBox()
        self._seed.setRange(0, SEED_MAX)
        self._seed.setAlignment(Qt.AlignmentFlag.AlignRight)
        self._seed.setToolTip(self.tr("The seed used when Random seed is off."))
        self._seed.setAccessibleName(self.tr("Seed"))
        self._seed.setEnabled(False)
        self._wheel_guard.guard(self._seed)
        self._random_seed.toggled.connect(self._random_seed_toggled)
        self._seed.valueChanged.connect(self._values_changed)
        grid.addWidget(self._random_seed, row, 0)
        grid.addWidget(self._seed, row, 1)
        row += 1
        grid.setRowMinimumHeight(row, 6)
        row += 1

        threads_label = QLabel(self.tr("Threads"))
        self._threads = QSpinBox()
        self._threads.setRange(0, usable_cores())
        self._threads.setAlignment(Qt.AlignmentFlag.AlignRight)
        self._threads.setToolTip(
            self.tr(
                "CPU threads that decode. Automatic measures which count is fastest and uses one "
                "thread while other programs keep the processor busy."
            )
        )
        self._threads.setAccessibleName(self.tr("Threads"))
        self._wheel_guard.guard(self._threads)
        threads_label.setBuddy(self._threads)
        self.show_threads_in_use(None)
        self._threads.valueChanged.connect(lambda value: self.threads_changed.emit(value or None))
        # On its own row, the width of the panel: "Automatic (16 in use)" needs more room than the
        # column of number boxes has (it showed "omatic (1 in use)" there).
        grid.addWidget(threads_label, row, 0, 1, 2)
        grid.addWidget(self._threads, row + 1, 0, 1, 2)
        row += 2
        grid.setRowMinimumHeight(row, 6)
        row += 1

        self._kv_type, row = self._add_choice(
            grid,
            row,
            self.tr("KV cache"),
            [
                (self.tr("f16 (full size)"), "f16"),
                (self.tr("q8_0 (half the memory)"), "q8_0"),
                (self.tr("q4_0 (a quarter of the memory)"), "q4_0"),
            ],
            self.tr(
                "How the model keeps the conversation in memory. q8_0 halves the KV cache and q4_0 "
                "quarters it, for long contexts in less memory; both turn flash attention on, which on "
                "the CPU decodes more slowly as a conversation grows. Applies when the model is loaded again."
            ),
        )
        self._kv_type.currentIndexChanged.connect(self._kv_type_index_changed)
        self._speculative, row = self._add_choice(
            grid,
            row,
            self.tr("Speculative decoding"),
            [
                (self.tr("Off"), "off"),
                (self.tr("Prompt lookup"), "lookup"),
                (self.tr("Automatic (prompt lookup while it pays)"), "auto"),
                (self.tr("Draft model"), "draft"),
            ],
            self.tr(
                "Guess the next tokens by copying what followed the same words earlier in the conversation, "
                "and check the guesses in one step: faster when the answer repeats the prompt (rewriting, "
                "proofreading, quoting), the same text either way. Automatic stops guessing when it does "
                "not pay. Applies when the model is loaded again."
            )
            + "\n"
            + self.tr(
                "Draft model: a smaller model of the same family guesses instead (the 1.3B model for "
                "Chinese-Alpaca-2 and Chinese-LLaMA-2 7B or 13B); it needs memory of its own."
            ),
        )
        self._speculative.currentIndexChanged.connect(self._speculative_index_changed)
        # Under the choice, while "Draft model" is chosen: the file, and what to do without one.
        self._draft_row = DraftModelRow()
        self._draft_row.choose_requested.connect(self.draft_model_requested)
        self._draft_row.hide()
        grid.addWidget(self._draft_row, row - 1, 0, 1, 2)
        grid.setRowMinimumHeight(row, 6)
        row += 1
        self._context_full, row = self._add_choice(
            grid,
            row,
            self.tr("When the context is full"),
            [(self.tr("Leave out the oldest turns"), "drop_oldest"), (self.tr("Stop with a message"), "stop")],
            self.tr(
                "What happens when a conversation no longer fits the context: leave its oldest turns out "
                "of the prompt (the model forgets them), or refuse the next message and say so, keeping "
                "what you typed."
            ),
        )
        self._context_full.currentIndexChanged.connect(lambda _i: self.context_full_changed.emit(self.context_full()))

        self._reset = QPushButton(self.tr("Reset to paper defaults"))
        self._reset.setToolTip(
            self.tr(
                "Context 2048, 512 new tokens, temperature 0.2, top-k 40, top-p 0.9, "
                "repetition penalty 1.1, random seed."
            )
        )
        self._reset.clicked.connect(self.reset_to_defaults)
        grid.addWidget(self._reset, row, 0, 1, 2)
        return group

    def _build_template_group(self) -> QGroupBox:
        group = QGroupBox(self.tr("Template"))
        column = QVBoxLayout(group)
        column.setSpacing(4)

        self._template = QComboBox()
        # Template labels are long; without this the combo box would widen the whole panel.
        self._template.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._template.setMinimumContentsLength(12)
        self._template.setToolTip(self.tr("How the conversation is written into the prompt."))
        self._template.addItem(self.tr("Automatic (from the model)"), None)
        for name in template_names():
            label, description = template_text(name)
            self._template.addItem(label, name)
            self._template.setItemData(self._template.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self._wheel_guard.guard(self._template)
        self._template.currentIndexChanged.connect(self._template_index_changed)
        template_label = QLabel(self.tr("Chat template"))
        template_label.setBuddy(self._template)
        column.addWidget(template_label)
        column.addWidget(self._template)

        system_label = QLabel(self.tr("System prompt"))
        self._system = QPlainTextEdit()
        self._system.setToolTip(
            self.tr("Text the conversation starts with. Leave it empty to use the template's default.")
        )
        self._system.setTabChangesFocus(True)
        self._system.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._system.setFixedHeight(self._system.fontMetrics().lineSpacing() * 4 + 12)
        self._system.textChanged.connect(self._system_text_changed)
        system_label.setBuddy(self._system)
        column.addSpacing(4)
        column.addWidget(system_label)
        column.addWidget(self._system)

        preview_label = QLabel(self.tr("Prompt preview"))
        preview_label.setToolTip(self.tr("The exact text the model reads for the next answer."))
        self._preview = PromptPreview(self._preview_work)
        self._preview.setAccessibleName(self.tr("Prompt preview"))
        self._preview.rendered.connect(self.preview_rendered)
        preview_label.setBuddy(self._preview)
        column.addSpacing(4)
        column.addWidget(preview_label)
        column.addWidget(self._preview, 1)
        return group

    # --- Parameters -----------------------------------------------------------------------

    def threads(self) -> int | None:
        """The decode thread count chosen, or ``None`` for automatic."""
        return self._threads.value() or None

    def set_threads(self, count: int | None) -> None:
        """Choose a thread count, or automatic with ``None`` (a count above the cores is capped)."""
        self._threads.setValue(min(count or 0, self._threads.maximum()))

    def _add_choice(
        self, grid: QGridLayout, row: int, label_text: str, items: list[tuple[str, str]], tooltip: str
    ) -> tuple[QComboBox, int]:
        """A labelled combo box across the panel's width at ``row`` (label above it); returns it and
        the next free row."""
        label = QLabel(label_text)
        combo = QComboBox()
        for text, data in items:
            combo.addItem(text, data)
        combo.setToolTip(tooltip)
        combo.setAccessibleName(label_text)
        self._wheel_guard.guard(combo)
        label.setBuddy(combo)
        label.setToolTip(tooltip)
        grid.addWidget(label, row, 0, 1, 2)
        grid.addWidget(combo, row + 1, 0, 1, 2)
        grid.setRowMinimumHeight(row + 2, 6)
        return combo, row + 3

    def kv_type(self) -> str:
        """The KV cache type chosen: ``f16``, ``q8_0`` or ``q4_0``."""
        return str(self._kv_type.currentData())

    def set_kv_type(self, kv_type: str) -> None:
        """Choose a KV cache type (an unknown one chooses f16)."""
        self._kv_type.setCurrentIndex(max(0, self._kv_type.findData(kv_type)))

    def speculative(self) -> str:
        """The speculative decoding mode chosen: ``off``, ``lookup`` or ``auto``."""
        return str(self._speculative.currentData())

    def set_speculative(self, mode: str) -> None:
        """Choose a speculative decoding mode (an unknown one chooses off)."""
        self._speculative.setCurrentIndex(max(0, self._speculative.findData(mode)))

    def _speculative_index_changed(self, _index: int) -> None:
        self._draft_row.setVisible(self.speculative() == "draft")
        self.speculative_changed.emit(self.speculative())

    def draft_model(self) -> str:
        """The draft model file shown ("" for none); used while the mode is ``draft``."""
        return self._draft_row.path()

    def set_draft_model(self, path: str) -> None:
        """Show ``path`` as the draft model file ("" for none); emits ``draft_model_changed`` when it changes."""
        if path != self._draft_row.path():
            self._draft_row.set_path(path)
            self.draft_model_changed.emit(path)

    def context_full(self) -> str:
        """What a full context does: ``drop_oldest`` (leave the oldest turns out) or ``stop``."""
        return str(self._context_full.currentData())

    def set_context_full(self, choice: str) -> None:
        """Choose what a full context does (an unknown choice leaves the oldest turns out)."""
        self._context_full.setCurrentIndex(max(0, self._context_full.findData(choice)))

    def set_context_limit(self, trained: int | None, loaded: int = 0) -> None:
        """Bound the context control by the loaded model's trained length.

        Args:
            trained: The length the model was trained for; ``None`` (no model, or a file that
                does not say): :data:`~runtime.decoding.DEFAULT_MAX_CONTEXT`.
            loaded: The context the model was loaded with: the bound is never below it, so that
                learning the trained length does not change the context in use.

        Without a model the bound is never below the context shown either: unloading a 64K
        model does not shorten the context chosen for it.
        """
        self._trained_context = trained
        rng = RANGES["n_ctx"]
        shown = int(self._controls["n_ctx"].value())
        limit = max(DEFAULT_MAX_CONTEXT, shown) if trained is None else max(trained, loaded)
        self._controls["n_ctx"].set_maximum(int(min(max(limit, rng.low), rng.high)))

    def context_limit(self) -> int:
        """The context control's upper bound."""
        return int(self._controls["n_ctx"].spin.maximum())

    def set_plan_inputs(self, shape: ModelShape | None, machine: Machine | None = None) -> None:
        """The loaded model's shape and this computer, to plan the chosen context's memory
        (``None``: no model, no plan shown). Planning is arithmetic: it follows every change."""
        self._plan_inputs = (shape, machine) if shape is not None and machine is not None else None
        self._update_context_plan()

    def context_plan_text(self) -> str:
        """The memory planned for the context and KV cache type shown ("" without a model)."""
        return self._context_plan.text() if self._plan_inputs is not None else ""

    def _update_context_plan(self) -> None:
        if self._plan_inputs is None:
            self._context_plan.clear()
            self._context_plan.hide()
            return
        shape, machine = self._plan_inputs
        planned = plan(shape, machine, n_ctx=self._controls["n_ctx"].value(), kv_type=self.kv_type())
        self._context_plan.setText(context_plan_text(planned))
        self._context_plan.show()

    def _kv_type_index_changed(self, _index: int) -> None:
        self._update_context_plan()
        self.kv_type_changed.emit(self.kv_type())

    def show_threads_in_use(self, count: int | None) -> None:
        """What automatic settled on for the last answer (``None``: not known yet)."""
        text = self.tr("Automatic") if not count else self.tr("Automatic ({0} in use)").format(count)
        self._threads.setSpecialValueText(text)
        # Qt's spin box counts its special text in its size hint, not in its minimum size: the
        # minimum follows the text, so a narrow panel never cuts it.
        self._threads.setMinimumWidth(self._threads.sizeHint().width())
        self._threads.updateGeometry()

    def params(self) -> DecodingParams:
        """The parameters shown; always valid, since every control is clamped to its range."""
        values = {name: control.value() for name, control in self._controls.items()}
        seed = None if self._random_seed.isChecked() else self._seed.value()
        return DecodingParams(**values, seed=seed)  # type: ignore[arg-type]

    def set_params(self, params: DecodingParams) -> None:
        """Show ``params``; emits ``params_changed`` once if they differ from those shown.

        A seed above the spin box's limit (2**31 - 1) is shown clamped to that limit.
        """
        self._apply(params)
        self._values_changed()

    def reset_to_defaults(self) -> None:
        """Restore the paper's defaults (section 6.2), with a random seed."""
        self.set_params(DecodingParams())

    def _apply(self, params: DecodingParams) -> None:
        self._bulk = True
        try:
            if self._trained_context is None:
                # No model to bound the context: a saved longer one (chosen for a 64K model) stays.
                limit = max(DEFAULT_MAX_CONTEXT, int(params.n_ctx))
                self._controls["n_ctx"].set_maximum(int(min(limit, RANGES["n_ctx"].high)))
            # The context first: it sets the bound that max_tokens is checked against.
            for name, control in self._controls.items():
                control.set_value(getattr(params, name))
            self._random_seed.setChecked(params.seed is None)
            if params.seed is not None:
                self._seed.setValue(min(params.seed, SEED_MAX))
        finally:
            self._bulk = False

    def _n_ctx_changed(self, n_ctx: int) -> None:
        # Clamping live keeps params() valid: max_tokens must stay below the context size.
        limit = min(int(RANGES["max_tokens"].high), n_ctx - 1)
        self._controls["max_tokens"].set_maximum(limit)
        self._update_context_plan()

    def _random_seed_toggled(self, checked: bool) -> None:
        self._seed.setEnabled(not checked)
        self._values_changed()

    def _values_changed(self) -> None:
        if self._bulk:
            return
        self._sync_preset()
        params = self.params()
        # One user action can change two values (a smaller context clamps max_tokens); the
        # comparison makes that one signal.
        if params != self._last_params:
            self._last_params = params
            self.params_changed.emit(params)

    def _preset_chosen(self, index: int) -> None:
        key = self._preset.itemData(index)
        if key is None:
            return
        # A preset sets the sampling values; whether the seed is fixed is the user's choice,
        # which presets do not speak to, so it is kept.
        seed = None if self._random_seed.isChecked() else self._seed.value()
        self.set_params(PRESETS[key].replace(seed=seed))

    def _sync_preset(self) -> None:
        # The combo box names the preset the values match, or "Custom", so it never claims a
        # preset that was edited afterwards.
        current = self.params().replace(seed=None)
        index = self._custom_index
        for i, key in enumerate(PRESETS):
            if PRESETS[key].replace(seed=None) == current:
                index = i
                break
        self._preset.setCurrentIndex(index)

    # --- Template and system prompt -------------------------------------------------------

    def template_choice(self) -> str | None:
        """The chosen template name, or ``None`` for automatic (from the model)."""
        return self._template.currentData()

    def set_template_choice(self, name: str | None) -> None:
        """Choose a template by name, or automatic with ``None``.

        A name that is not registered selects automatic: a stored choice may name a template
        that a later version no longer has, and the model's own choice is the safe fallback.
        """
        index = 0 if name is None else self._template.findData(name)
        self._template.setCurrentIndex(max(index, 0))

    def set_auto_template(self, name: str | None) -> None:
        """Tell the panel what automatic resolves to for the loaded model (``None``: no model)."""
        self._auto_template = name
        if name is None:
            text = self.tr("Automatic (from the model)")
        else:
            text = self.tr("Automatic: {label}").format(label=template_text(name)[0])
        self._template.setItemText(0, text)
        self._update_system_placeholder()
        self._preview.schedule()

    def effective_template(self) -> str:
        """The template that will be used: the choice, else automatic's, else ``"raw"``."""
        return self.template_choice() or self._auto_template or DEFAULT_TEMPLATE

    def set_jinja_source(self, source: str | None, origin: str | None = None) -> None:
        """The loaded model's embedded chat template, so that "embedded" can be previewed.

        Args:
            source: The template (GGUF ``tokenizer.chat_template``), or ``None``.
            origin: The model file it came from, named if the template is refused.
        """
        self._jinja_source = source
        self._jinja_origin = origin
        self._preview.schedule()

    def system_prompt(self) -> str | None:
        """The system prompt without surrounding whitespace, or ``None`` when empty."""
        return self._system.toPlainText().strip() or None

    def set_system_prompt(self, text: str | None) -> None:
        """Show a system prompt; ``None`` or ``""`` clears it (the template's default)."""
        self._system.setPlainText(text or "")

    def _template_index_changed(self, _index: int) -> None:
        self._update_system_placeholder()
        self._preview.schedule()
        choice = self.template_choice()
        if choice != self._last_template:
            self._last_template = choice
            self.template_changed.emit(choice)

    def _system_text_changed(self) -> None:
        self._preview.schedule()
        text = self.system_prompt()
        if text != self._last_system:
            self._last_system = text
            self.system_prompt_changed.emit(text)

    def _update_system_placeholder(self) -> None:
        default = get_template(self.effective_template()).default_system
        if default:
            self._system.setPlaceholderText(default)
        else:
            self._system.setPlaceholderText(self.tr("No system prompt"))

    # --- Preview --------------------------------------------------------------------------

    def set_preview_turns(self, turns: Sequence[Turn], draft: str) -> None:
        """Show the prompt for ``turns`` (the conversation so far) followed by ``draft``.

        With an empty draft and an unanswered newest turn (an answer in progress), that turn
        is the newest one and no empty turn is added after it.
        """
        self._turns = list(turns)
        self._draft = draft
        self._preview.schedule()

    def preview_text(self) -> str:
        """The text the preview shows (after the debounce and the render)."""
        return self._preview.toPlainText()

    def _preview_work(self) -> Callable[[], str]:
        """What the preview renders next: the conversation, the draft, the template and system prompt."""
        turns = list(self._turns)
        if self._draft or not turns or turns[-1].assistant is not None:
            turns.append(Turn(self._draft))
        # Everything the worker needs is read here, on the GUI thread.
        name = self.effective_template()
        system = self.system_prompt()
        source = self._jinja_source
        origin = self._jinja_origin

        def work() -> str:
            return render(name, turns, system=system, jinja_source=source, jinja_origin=origin).text

        return work
