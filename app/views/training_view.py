"""Tools → Advanced: LoRA training: the layout of the training window (the logic is in app/controllers/training.py).

Left: the recipe (preset, model, tokenizer, dataset and its preview, hyper-parameters, target).
Right: Start / Stop, the run's status, the live loss chart, the live log and the history of runs.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.theme import follow_scheme, palette_is_dark
from app.views.flow_layout import FlowLayout
from app.views.loss_chart import LossChart
from runtime.training.marking import Segment

#: Lines kept in the live log.
LOG_LINES = 5000


class TrainingView(QWidget):
    """The training window's widgets. ``spec_fields`` / ``apply_fields`` move values in and out.

    Signals:
        shown(): the window was shown (the controller checks the target then, not before).
    """

    shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Advanced: LoRA training"))
        self.resize(1180, 760)

        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        follow_scheme(
            self.notice,
            lambda c: self.notice.setStyleSheet(
                f"QLabel {{ background: {c.notice}; color: {c.notice_text}; padding: 6px; }}"
            ),
        )

        # -- the recipe --
        self.preset = QComboBox()
        self.kind = QComboBox()
        self.kind.addItem(self.tr("Pre-training (plain text)"), "pretrain")
        self.kind.addItem(self.tr("Instruction fine-tuning (Alpaca JSON)"), "sft")
        self.model = QLineEdit()
        self.model.setPlaceholderText(self.tr("Hugging Face model folder (LLaMA)"))
        self.model_browse = QPushButton(self.tr("Browse…"))
        self.model_browse.clicked.connect(lambda: self._browse_folder(self.model))
        self.tokenizer = QLineEdit()
        self.tokenizer.setPlaceholderText(self.tr("Optional: the model folder's tokenizer"))
        self.tokenizer_browse = QPushButton(self.tr("Browse…"))
        self.tokenizer_browse.clicked.connect(lambda: self._browse_folder(self.tokenizer))
        self.dataset = QLineEdit()
        self.dataset.setPlaceholderText(
            self.tr("Text file or folder (pre-training), JSON or JSON lines (instructions)")
        )
        self.dataset_browse = QPushButton(self.tr("Browse…"))
        self.dataset_browse.clicked.connect(lambda: self._browse_dataset(self.dataset))
        self.preview_button = QPushButton(self.tr("Preview"))
        self.preview_button.setToolTip(self.tr("Show the first records and their token counts under the tokenizer"))
        self.preview = QTableWidget(0, 3)
        self.preview.setHorizontalHeaderLabels([self.tr("Text"), self.tr("Tokens"), self.tr("Learned")])
        self.preview.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setMinimumHeight(120)
        # The first training sequences as the run builds them, the learned part marked.
        self.preview_marked = QTextBrowser()
        self.preview_marked.setMinimumHeight(120)
        self.preview_marked.setPlaceholderText(
            self.tr("The first training sequences appear here, the learned part marked.")
        )
        self.preview_legend = QLabel()
        self.preview_legend.setWordWrap(True)
        self.validation_file = QLineEdit()
        self.validation_file.setPlaceholderText(
            self.tr("Optional: a dataset of the same kind to validate on, instead of the held-out share")
        )
        self.validation_browse = QPushButton(self.tr("Browse…"))
        self.validation_browse.clicked.connect(lambda: self._browse_dataset(self.validation_file))

        recipe = QGroupBox(self.tr("Recipe"))
        form = QFormLayout(recipe)
        _labels_above_fields(form)
        form.addRow(self.tr("Preset:"), self.preset)
        form.addRow(self.tr("Kind:"), self.kind)
        form.addRow(self.tr("Model:"), _row(self.model, self.model_browse))
        form.addRow(self.tr("Tokenizer:"), _row(self.tokenizer, self.tokenizer_browse))
        form.addRow(self.tr("Dataset:"), _row(self.dataset, self.dataset_browse, self.preview_button))
        form.addRow(self.preview)
        form.addRow(self.preview_marked)
        form.addRow(self.preview_legend)
        form.addRow(self.tr("Validation file:"), _row(self.validation_file, self.validation_browse))

        # -- hyper-parameters --
        self.lora_rank = _spin(1, 1024, 8)
        self.lora_alpha = _spin(1, 100_000, 32)
        self.lora_dropout = _double(0.0, 0.9, 0.05, 3)
        self.learning_rate = _double(1e-7, 1.0, 2e-4, 7)
        self.learning_rate.setSingleStep(1e-5)
        self.epochs = _double(0.01, 100.0, 1.0, 2)
        self.max_steps = _spin(0, 10_000_000, 0)
        self.max_steps.setSpecialValueText(self.tr("from the epochs"))
        self.block_size = _spin(8, 131_072, 512)
        self.batch_size = _spin(1, 4096, 1)
        self.grad_accum = _spin(1, 4096, 1)
        self.save_steps = _spin(0, 10_000_000, 0)
        self.save_steps.setSpecialValueText(self.tr("at the end and on stop"))
        self.seed = _spin(0, 2_147_483_647, 42)
        self.gradient_checkpointing = QCheckBox(self.tr("Gradient checkpointing (less memory, slower)"))
        self.validation_split_percentage = _double(0.0, 0.5, 0.001, 4)
        self.validation_split_percentage.setSingleStep(0.001)
        self.validation_split_percentage.setToolTip(
            self.tr(
                "The share of the training sequences held out to measure the validation loss (0.001 = 0.1%, "
                "as the authors' scripts); not used when a validation file is given"
            )
        )
        self.eval_steps = _spin(0, 10_000_000, 100)
        self.eval_steps.setSpecialValueText(self.tr("only at the end"))
        self.eval_steps.setToolTip(self.tr("Validation loss and perplexity every this many steps, and at the end"))
        self.load_in_kbits = QComboBox()
        self.load_in_kbits.addItem(self.tr("16 bits (not quantized)"), 16)
        self.load_in_kbits.addItem(self.tr("8 bits (bitsandbytes, CUDA only)"), 8)
        self.load_in_kbits.addItem(self.tr("4 bits (bitsandbytes, CUDA only)"), 4)
        self.precision = QComboBox()
        for label, value in (
            (self.tr("Automatic (bf16 or fp16 on the GPU)"), "auto"),
            ("fp32", "fp32"),
            ("fp16", "fp16"),
            ("bf16", "bf16"),
        ):
            self.precision.addItem(label, value)
        self.stage = QComboBox()
        self.stage.addItem(self.tr("LoRA (and embeddings when the vocabulary grows)"), "lora")
        self.stage.addItem(self.tr("Stage 1: embeddings only, transformer frozen"), "embeddings")
        self.init_adapter = QLineEdit()
        self.init_adapter.setPlaceholderText(self.tr("Optional: an adapter to continue (stage 2 after stage 1)"))
        self.init_adapter_browse = QPushButton(self.tr("Browse…"))
        self.init_adapter_browse.clicked.connect(lambda: self._browse_folder(self.init_adapter))
        self.train_embeddings = QComboBox()
        self.train_embeddings.addItem(self.tr("When the tokenizer is larger than the model"), "auto")
        self.train_embeddings.addItem(self.tr("Always"), "yes")
        self.train_embeddings.addItem(self.tr("Never"), "no")

        params = QGroupBox(self.tr("Hyper-parameters"))
        grid = QFormLayout(params)
        _labels_above_fields(grid)
        grid.addRow(self.tr("LoRA rank / alpha / dropout:"), _row(self.lora_rank, self.lora_alpha, self.lora_dropout))
        grid.addRow(self.tr("Learning rate:"), self.learning_rate)
        grid.addRow(self.tr("Epochs / max steps:"), _row(self.epochs, self.max_steps))
        grid.addRow(self.tr("Block size:"), self.block_size)
        grid.addRow(self.tr("Batch / accumulation:"), _row(self.batch_size, self.grad_accum))
        grid.addRow(self.tr("Checkpoint every:"), self.save_steps)
        grid.addRow(self.tr("Seed:"), self.seed)
        grid.addRow(self.tr("Precision:"), self.precision)
        grid.addRow(self.tr("Load the model in:"), self.load_in_kbits)
        grid.addRow(self.tr("Validation share / every:"), _row(self.validation_split_percentage, self.eval_steps))
        grid.addRow(self.tr("Stage:"), self.stage)
        grid.addRow(self.tr("Continue from:"), _row(self.init_adapter, self.init_adapter_browse))
        grid.addRow(self.tr("Train embeddings:"), self.train_embeddings)
        grid.addRow(self.gradient_checkpointing)

        self.target = QComboBox()
        self.devices = QLineEdit()
        self.devices.setPlaceholderText(self.tr("all (or e.g. 0,1)"))
        self.devices.setToolTip(self.tr("CUDA device numbers to train on, separated by commas"))
        self.processes = _spin(1, 64, 1)
        self.processes.setToolTip(self.tr("More than one starts one process per GPU through torchrun"))
        self.target_status = QLabel()
        self.target_status.setWordWrap(True)
        target_box = QGroupBox(self.tr("Where it runs"))
        target_form = QFormLayout(target_box)
        _labels_above_fields(target_form)
        target_form.addRow(self.tr("Target:"), self.target)
        target_form.addRow(self.tr("GPUs / processes:"), _row(self.devices, self.processes))
        target_form.addRow(self.target_status)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(recipe)
        left_layout.addWidget(params)
        left_layout.addWidget(target_box)
        left_layout.addStretch(1)
        combos = (self.preset, self.kind, self.precision, self.load_in_kbits, self.stage, self.train_embeddings)
        for combo in (*combos, self.target):
            # Long item texts must not widen the form past its column: the list shows them whole.
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(16)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(left)
        # As wide as the form's own minimum (its labels and fields in this language), so that the
        # splitter never cuts a field's text; the right side gets the rest.
        scroll.setMinimumWidth(left.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)

        # -- the run --
        self.start_button = QPushButton(self.tr("Start"))
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.setEnabled(False)
        self.stop_button.setToolTip(self.tr("Stop after the current step; a checkpoint is saved and a rerun resumes"))
        self.merge_button = QPushButton(self.tr("Merge into the model…"))
        self.merge_button.setEnabled(False)
        self.merge_button.setToolTip(self.tr("Merge the finished adapter into its base model (safetensors)"))
        self.download_button = QPushButton(self.tr("Download adapter"))
        self.download_button.setToolTip(self.tr("Download the finished run's adapter from its SSH host"))
        self.download_button.setVisible(False)
        self.status = QLabel(self.tr("No run yet."))
        self.status.setWordWrap(True)
        # A remote run's adapter coming home (its size is in the status line).
        self.download_progress = QProgressBar()
        self.download_progress.setRange(0, 1000)
        self.download_progress.setVisible(False)
        self.chart = LossChart()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setPlaceholderText(self.tr("The run's log appears here."))
        self.history = QTableWidget(0, 7)
        self.history.setHorizontalHeaderLabels(
            [
                self.tr("Run"),
                self.tr("Kind"),
                self.tr("Target"),
                self.tr("State"),
                self.tr("Step"),
                self.tr("Loss"),
                self.tr("Parameters"),
            ]
        )
        self.history.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)

        right = QSplitter()
        right.setOrientation(right.orientation().Vertical)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        # After a merge: the merged folder goes on to the convert-and-quantize wizard.
        self.convert_button = QPushButton(self.tr("Convert to GGUF…"))
        self.convert_button.setToolTip(self.tr("Open the merged model in the convert-and-quantize wizard"))
        self.convert_button.hide()
        # The run's buttons wrap onto a second row where the window is narrow (800 pixels): side
        # by side they alone would make it wider than such a screen.
        run_buttons = FlowLayout()
        for button in (
            self.start_button,
            self.stop_button,
            self.download_button,
            self.merge_button,
            self.convert_button,
        ):
            run_buttons.add_widget(button)
        top_layout.addLayout(run_buttons)
        top_layout.addWidget(self.status)
        top_layout.addWidget(self.download_progress)
        top_layout.addWidget(self.chart, 1)
        right.addWidget(top)
        right.addWidget(self.log)
        history_box = QGroupBox(self.tr("Runs"))
        QVBoxLayout(history_box).addWidget(self.history)
        right.addWidget(history_box)
        right.setSizes([320, 220, 180])

        body = QSplitter()
        body.addWidget(scroll)
        body.addWidget(right)
        body.setStretchFactor(1, 1)
        body.setSizes([540, 640])
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(body, 1)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        """Tell the controller the window is on screen."""
        super().showEvent(event)
        self.shown.emit()

    # -- values in and out --

    def spec_fields(self) -> dict[str, Any]:
        """The recipe as JobSpec fields (the preset's hidden fields are added by the controller)."""
        return {
            "kind": self.kind.currentData(),
            "model": self.model.text().strip(),
            "tokenizer": self.tokenizer.text().strip(),
            "dataset": self.dataset.text().strip(),
            "lora_rank": self.lora_rank.value(),
            "lora_alpha": self.lora_alpha.value(),
            "lora_dropout": self.lora_dropout.value(),
            "learning_rate": self.learning_rate.value(),
            "epochs": self.epochs.value(),
            "max_steps": self.max_steps.value(),
            "block_size": self.block_size.value(),
            "batch_size": self.batch_size.value(),
            "grad_accum": self.grad_accum.value(),
            "save_steps": self.save_steps.value(),
            "seed": self.seed.value(),
            "gradient_checkpointing": self.gradient_checkpointing.isChecked(),
            "validation_split_percentage": self.validation_split_percentage.value(),
            "validation_file": self.validation_file.text().strip(),
            "eval_steps": self.eval_steps.value(),
            "load_in_kbits": self.load_in_kbits.currentData(),
            "precision": self.precision.currentData(),
            "stage": self.stage.currentData(),
            "train_embeddings": self.train_embeddings.currentData(),
            "init_adapter": self.init_adapter.text().strip(),
            "devices": _devices(self.devices.text()),
            "processes": self.processes.value(),
        }

    def apply_fields(self, fields: dict[str, Any]) -> None:
        """Show these values (fields the view does not show are ignored)."""
        for name, value in fields.items():
            widget = getattr(self, name, None)
            if isinstance(widget, QComboBox):
                index = widget.findData(value)
                if index >= 0:
                    widget.setCurrentIndex(index)
            elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                widget.setValue(value)
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QLineEdit) and isinstance(value, str):
                widget.setText(value)
            elif isinstance(widget, QLineEdit) and isinstance(value, (list, tuple)):
                widget.setText(",".join(str(v) for v in value))

    def show_notice(self, text: str) -> None:
        """Show (or with "" hide) the message above the form."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def show_preview(self, rows: list[tuple[str, int, int]]) -> None:
        """Fill the preview table."""
        self.preview.setRowCount(len(rows))
        for row, (text, tokens, learned) in enumerate(rows):
            self.preview.setItem(row, 0, QTableWidgetItem(text.replace("\n", " ⏎ ")))
            self.preview.setItem(row, 1, QTableWidgetItem(f"{tokens:,}"))
            self.preview.setItem(row, 2, QTableWidgetItem(f"{learned:,}"))

    def show_marked(self, examples: list[list[Segment]]) -> None:
        """Show the first training sequences, the learned part on a coloured background, and the legend."""
        foreground, background = learned_colours(self.palette())
        style = f"background-color: {background.name()}; color: {foreground.name()};"
        blocks = []
        for number, segments in enumerate(examples, 1):
            parts = [f'<span style="{style}">{_html(s.text)}</span>' if s.learned else _html(s.text) for s in segments]
            blocks.append(f"<p><b>{number}.</b> {''.join(parts)}</p>")
        self.preview_marked.setHtml("".join(blocks))
        swatch = f'<span style="{style}">&nbsp;{html.escape(self.tr("learned"))}&nbsp;</span>'
        legend = self.tr("{learned}: what the loss learns (the answer and its end token; all of a pre-training block).")
        self.preview_legend.setText(
            html.escape(legend).format(learned=swatch)
            + " "
            + html.escape(self.tr("Plain text: masked, not learned (the prompt)."))
            if examples
            else ""
        )

    def show_history(self, rows: list[tuple[str, ...]]) -> None:
        """Fill the history table (already translated text)."""
        self.history.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.history.setItem(row, column, QTableWidgetItem(value))

    def _browse_folder(self, edit: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder"), edit.text())
        if folder:
            edit.setText(folder)

    def _browse_dataset(self, edit: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Choose the dataset"),
            edit.text(),
            self.tr("Data (*.txt *.json *.jsonl);;All files (*)"),
        )
        if path:
            edit.setText(path)


def learned_colours(palette: QPalette) -> tuple[QColor, QColor]:
    """Text and background colours of the learned tokens: dark green on light green in a light
    palette, light on dark green in a dark one (contrast above 7:1 in both)."""
    if palette_is_dark(palette):
        return QColor("#e8f6ec"), QColor("#1d5b32")
    return QColor("#0b3d1c"), QColor("#c4ecd0")


def _html(text: str) -> str:
    """Text for the rich-text preview: escaped, line breaks shown (⏎) and kept."""
    return html.escape(text).replace("\n", "⏎<br>")


def _devices(text: str) -> list[int] | str:
    """The device list: "0, 1" gives [0, 1]; anything else is passed on for the spec's check to name."""
    words = [w.strip() for w in text.replace(" ", ",").split(",") if w.strip()]
    return [int(w) for w in words] if all(w.isdigit() for w in words) else text


def _spin(low: int, high: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setGroupSeparatorShown(True)
    return spin


def _double(low: float, high: float, value: float, decimals: int) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setDecimals(decimals)
    spin.setRange(low, high)
    spin.setValue(value)
    return spin


def _row(*widgets: QWidget) -> QWidget:
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget, 1 if isinstance(widget, QLineEdit) else 0)
    return holder


def _labels_above_fields(form: QFormLayout) -> None:
    """Each label on its own line above its field: beside them, the labels' column left the fields
    too little of an 800-pixel window to show their whole text (a stage's or precision's name)."""
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
