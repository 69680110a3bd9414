"""The training window's validation and preview marks: the chart's second line (validation loss) with
its legend, the controller drawing it from a run's evaluation lines, and the preview's learned part
marked in colours readable in a light and in a dark palette."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QImage, QPalette, QTextCharFormat
from PySide6.QtWidgets import QApplication

from app.controllers.training import TrainingController
from app.theme import colours
from app.views.loss_chart import LossChart
from app.views.training_view import TrainingView, learned_colours
from tests.conftest import SHIPPED_TOKENIZERS


def _pixels_near(image: QImage, colour: QColor, tolerance: int = 40) -> int:
    count = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - colour.red())
                + abs(pixel.green() - colour.green())
                + abs(pixel.blue() - colour.blue())
                < tolerance
            ):
                count += 1
    return count


def test_the_chart_draws_the_validation_loss_as_a_second_line_with_its_legend(qtbot) -> None:
    chart = LossChart()
    qtbot.addWidget(chart)
    chart.resize(640, 300)
    chart.show()
    qtbot.waitExposed(chart)
    for step in range(1, 41):
        chart.add_point(step, 3.0 - step * 0.04, 1e-3, total=40)
    before = chart.grab().toImage()
    assert chart.legend() == ["training loss", "learning rate"]
    loss_colour, eval_colour = QColor(colours().chart_line), QColor(colours().chart_eval_line)
    assert _pixels_near(before, loss_colour) > 50 and _pixels_near(before, eval_colour) == 0

    chart.add_eval_point(20, 2.6, total=40)
    chart.add_eval_point(40, 2.2, total=40)
    chart.add_eval_point(40, 2.1, total=40)  # a repeated step replaces the older value
    assert chart.eval_points == [(20, 2.6), (40, 2.1)]
    assert chart.legend() == ["training loss", "validation loss", "learning rate"]
    after = chart.grab().toImage()
    assert _pixels_near(after, eval_colour) > 30  # the line, its dots and the legend's sample

    chart.clear()
    assert chart.eval_points == [] and chart.points == []


def test_a_runs_evaluation_lines_reach_the_chart_and_the_status(qtbot) -> None:
    class Handle:  # the events a run's handle gives the controller's poll
        job_id = "run-1"

        def __init__(self) -> None:
            self.pending = [
                {"event": "progress", "step": 1, "total": 4, "loss": 3.0, "lr": 1e-3},
                {"event": "evaluation", "step": 2, "total": 4, "eval_loss": 2.5, "perplexity": 12.18, "examples": 3},
                {"event": "progress", "step": 3, "total": 4, "loss": 2.4, "lr": 5e-4},
                {"event": "evaluation", "step": 4, "total": 4, "eval_loss": None, "perplexity": None},
            ]

        def poll(self) -> list[dict]:
            taken, self.pending = self.pending, []
            return taken

        def log_tail(self, offset: int):
            from runtime.training.runs import LogChunk

            return LogChunk("", offset)

    view = TrainingView()
    qtbot.addWidget(view)
    controller = TrainingController(view)
    controller.handle = Handle()  # type: ignore[assignment]
    controller._poll()
    assert view.chart.eval_points == [(2, 2.5)]  # the malformed line is left out
    assert [p[0] for p in view.chart.points] == [1, 3]
    assert "validation loss 2.5000 (perplexity 12.18)" in view.status.text()
    controller.handle = None


def _fragments(view: TrainingView) -> list[tuple[str, QTextCharFormat]]:
    found = []
    block = view.preview_marked.document().begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            found.append((fragment.text(), fragment.charFormat()))
            iterator += 1
        block = block.next()
    return found


def test_the_preview_marks_the_learned_part_of_each_sequence(qtbot, zh_sft_sample: Path) -> None:
    view = TrainingView()
    qtbot.addWidget(view)
    TrainingController(view)
    view.preset.setCurrentIndex(view.preset.findData("tiny-test"))
    view.kind.setCurrentIndex(view.kind.findData("sft"))
    view.model.setText(str(SHIPPED_TOKENIZERS / "llama"))  # the sequences need only its tokenizer
    view.dataset.setText(str(zh_sft_sample))
    view.block_size.setValue(2048)  # whole answers, with their end token
    view.preview_button.click()
    qtbot.waitUntil(lambda: "3." in view.preview_marked.toPlainText(), timeout=30_000)
    _foreground, background = learned_colours(view.palette())
    fragments = _fragments(view)
    learned = "".join(text for text, f in fragments if f.background().color() == background)
    masked = "".join(text for text, f in fragments if f.background().color() != background)
    # Generation 1's training prompt is masked; the answers and their </s> are learned.
    assert "Below is an instruction" in masked and "### Response:" in masked and "<s>" in masked
    assert learned.count("</s>") == 3 and "Instruction" not in learned
    assert "learned" in view.preview_legend.text() and "masked" in view.preview_legend.text()


def _contrast(first: QColor, second: QColor) -> float:
    def luminance(colour: QColor) -> float:
        channels = []
        for value in (colour.redF(), colour.greenF(), colour.blueF()):
            channels.append(value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_learned_marks_are_readable_in_a_light_and_a_dark_palette(qtbot) -> None:
    light = QApplication.palette()
    light.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    light.setColor(QPalette.ColorRole.Text, QColor("#1f1f1f"))
    dark = QPalette(light)
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    from runtime.training.marking import Segment

    for palette in (light, dark):
        view = TrainingView()
        qtbot.addWidget(view)
        view.setPalette(palette)
        foreground, background = learned_colours(view.palette())
        assert _contrast(foreground, background) >= 7.0  # WCAG AAA for text
        assert _contrast(palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)) >= 7.0
        view.show_marked([[Segment("<s>prompt ", False), Segment("answer</s>", True)]])
        (marked,) = [(t, f) for t, f in _fragments(view) if t.startswith("answer")]
        assert marked[1].background().color() == background and marked[1].foreground().color() == foreground
