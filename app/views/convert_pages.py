"""The convert wizard's four pages: their widgets and layout, and nothing of the flow.

:class:`app.views.convert_wizard.ConvertWizard` stacks them, connects their widgets and runs the
steps. Their words are translated in the ``ConvertWizard`` context, where the wizard built these
pages before they had a module of their own, so the translations made for it still apply: hence
``QCoreApplication.translate("ConvertWizard", ...)`` instead of ``self.tr`` (whose context would
be the page's class).
"""

from __future__ import annotations

import os

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

__all__ = ["DEFAULT_QUANTS", "QUANT_CHOICES", "FolderPage", "OutputsPage", "ResultPage", "RunPage"]

# The quantization types offered, as runtime.models.quantize lists them (repeated: that module loads llama.cpp).
QUANT_CHOICES = ("q8_0", "q6_k", "q5_k_m", "q5_0", "q4_k_m", "q4_0", "q3_k_m", "q2_k")
# Checked by default: the usual choice for a laptop and the nearly lossless one.
DEFAULT_QUANTS = ("q8_0", "q4_k_m")


class FolderPage(QWidget):
    """Step 1: the checkpoint folder, a button to check it, and what the check found."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        intro = QLabel(
            QCoreApplication.translate(
                "ConvertWizard",
                "Choose the folder the merge script wrote: a Hugging Face folder (config.json, *.safetensors or "
                "pytorch_model*.bin, tokenizer.model) or Meta's layout (consolidated.*.pth, params.json, "
                "tokenizer.model). It is checked before anything is written.",
            )
        )
        intro.setWordWrap(True)
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText(QCoreApplication.translate("ConvertWizard", "Checkpoint folder"))
        self.browse_button = QPushButton(QCoreApplication.translate("ConvertWizard", "Browse…"))
        self.inspect_button = QPushButton(QCoreApplication.translate("ConvertWizard", "Check the folder"))
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(self.browse_button)
        row.addWidget(self.inspect_button)
        self.inspection_label = QLabel()
        self.inspection_label.setWordWrap(True)
        self.inspection_label.setTextFormat(Qt.TextFormat.PlainText)
        self.inspection_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.inspection_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.inspection_label, 1)


class OutputsPage(QWidget):
    """Step 2: the converted file's type, the quantizations, the output folder and the options."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.outtype_combo = QComboBox()
        for outtype, label in (
            ("f16", QCoreApplication.translate("ConvertWizard", "F16 (16-bit, the usual)")),
            ("bf16", QCoreApplication.translate("ConvertWizard", "BF16 (16-bit, the training type)")),
            ("f32", QCoreApplication.translate("ConvertWizard", "F32 (32-bit, exact)")),
        ):
            self.outtype_combo.addItem(label, outtype)
        self.quant_checks: dict[str, QCheckBox] = {}
        quants = QGridLayout()
        for index, qtype in enumerate(QUANT_CHOICES):
            check = QCheckBox(qtype.upper())
            check.setChecked(qtype in DEFAULT_QUANTS)
            self.quant_checks[qtype] = check
            quants.addWidget(check, index // 2, index % 2)
        self.out_dir_edit = QLineEdit()
        self.browse_button = QPushButton(QCoreApplication.translate("ConvertWizard", "Browse…"))
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_dir_edit, 1)
        out_row.addWidget(self.browse_button)
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(0, max(1, os.cpu_count() or 1))
        self.threads_spin.setSpecialValueText(QCoreApplication.translate("ConvertWizard", "All cores"))
        self.template_combo = QComboBox()
        for template, label in (
            ("auto", QCoreApplication.translate("ConvertWizard", "Automatic (from the name and vocabulary)")),
            ("chinese-alpaca", "Chinese-Alpaca"),
            ("chinese-alpaca-2", "Chinese-Alpaca-2"),
            ("raw", QCoreApplication.translate("ConvertWizard", "None (a base model)")),
        ):
            self.template_combo.addItem(label, template)
        self.space_label = QLabel()
        self.space_label.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(QCoreApplication.translate("ConvertWizard", "Converted file"), self.outtype_combo)
        form.addRow(QCoreApplication.translate("ConvertWizard", "Quantized files"), quants)
        form.addRow(QCoreApplication.translate("ConvertWizard", "Output folder"), out_row)
        form.addRow(QCoreApplication.translate("ConvertWizard", "Threads"), self.threads_spin)
        form.addRow(QCoreApplication.translate("ConvertWizard", "Chat template"), self.template_combo)
        form.addRow(self.space_label)


class RunPage(QWidget):
    """Step 3: a row per stage (the wizard fills the grid when a run starts) and the run's status."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stage_grid = QGridLayout()
        self.run_status = QLabel()
        self.run_status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(self.stage_grid)
        layout.addWidget(self.run_status)
        layout.addStretch(1)


class ResultPage(QWidget):
    """Step 4: the files written, "Chat with it" and "Make a quantization report"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_list = QListWidget()
        self.chat_button = QPushButton(QCoreApplication.translate("ConvertWizard", "Chat with it"))
        self.report_button = QPushButton(QCoreApplication.translate("ConvertWizard", "Make a quantization report"))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.chat_button)
        row.addWidget(self.report_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.result_label)
        layout.addWidget(self.result_list, 1)
        layout.addLayout(row)
