"""The chat view renders a streaming answer paragraph by paragraph."""

from __future__ import annotations

from app.views.chat_view import ChatView, stable_prefix_end


def test_stable_prefix_end_stops_at_blank_lines_outside_code() -> None:
    assert stable_prefix_end("no paragraph yet") == 0
    assert stable_prefix_end("one\n\ntwo") == len("one\n\n")
    text = "intro\n\n```python\nx = 1\n\ny = 2\n```\n\nafter"
    # The blank line inside the fence does not finish anything; the one after it does.
    assert stable_prefix_end(text) == text.index("after")
    assert stable_prefix_end("open\n\n```\ncode\n\nstill code") == len("open\n\n")


def test_streamed_answer_freezes_finished_paragraphs(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    widget = view.add_message(1, "assistant", "")
    view.begin_stream(widget)
    answer = "第一段。\n\n第二段，**加粗**。\n\n```python\nprint(1)\n\nprint(2)\n```\n\n最后一段"
    for piece in answer:
        view.append_stream(piece)
        view._render_stream()  # what the stream timer does
    view.end_stream()
    assert widget.text == answer
    frozen = [part.property("source") for part in widget._frozen_parts]
    assert frozen == ["第一段。", "第二段，**加粗**。", "```python\nprint(1)\n\nprint(2)\n```"]
    assert widget.body.property("source") == "最后一段"
    # A finished message shown again (a conversation reopened) is one label.
    widget.set_text(answer)
    assert widget._frozen_parts == [] and widget.body.property("source") == answer


def test_long_paragraph_is_cut_at_a_line_break() -> None:
    text = ("一行文字\n" * 400) + "未完"
    end = stable_prefix_end(text)
    assert end == text.rindex("\n") + 1
    assert stable_prefix_end("短\n文本") == 0


def test_huge_message_shows_its_beginning_and_copies_whole(qtbot) -> None:
    from PySide6.QtGui import QGuiApplication

    from app.views.chat_view import DISPLAY_LIMIT

    view = ChatView()
    qtbot.addWidget(view)
    text = "长" * (DISPLAY_LIMIT * 5)
    widget = view.add_message(1, "user", text)
    assert len(widget.shown_text()) < DISPLAY_LIMIT + 200
    assert f"{DISPLAY_LIMIT * 4:,}" in widget.shown_text()
    widget.copy()
    assert QGuiApplication.clipboard().text() == text


def test_long_line_without_breaks_is_cut_after_a_sentence() -> None:
    text = "这是一句话。" * 200 + "还没写完"
    end = stable_prefix_end(text)
    assert text[:end].endswith("。") and text[end:] == "还没写完"
    code = "```\n" + "x = 1; " * 200
    assert stable_prefix_end(code) == 0  # never inside a code block


def test_answers_show_raw_html_as_text_and_load_no_images(qtbot) -> None:
    from app.views.chat_view import MessageWidget, answer_html

    hostile = (
        '<img src="file:///etc/passwd"> <a href="file:///etc/shadow">click</a>\n\n'
        "<style>body { display: none }</style>\n\n"
        "![zero](/dev/zero) and **bold**"
    )
    html = answer_html(hostile)
    assert "<img" not in html and "<style>body" not in html and 'href="file:///etc/shadow"' not in html
    assert "&lt;style&gt;" in html
    widget = MessageWidget(1, "assistant", hostile)
    qtbot.addWidget(widget)
    for part in widget.body.parts():
        shown = part.document().toHtml()
        assert "<img" not in shown and "<style>body" not in shown
    plain = widget.shown_text()
    assert '<img src="file:///etc/passwd">' in plain  # the markup is shown as the characters it is
    assert "<style>body { display: none }</style>" in plain
    assert "[/dev/zero]" in plain and "bold" in plain and "**" not in plain  # Markdown still renders


def test_text_view_remembers_heights_only_while_its_text_and_font_stay(qtbot) -> None:
    from PySide6.QtGui import QFont

    from app.views.markdown_view import TextView

    view = TextView()
    qtbot.addWidget(view)
    view.show_text("白日依山尽，黄河入海流。" * 10, markdown=False)
    short = view.heightForWidth(200)
    assert view.heightForWidth(200) == short  # remembered
    assert view.heightForWidth(100) > short  # per width: a narrower view wraps again
    view.show_text("白日依山尽，黄河入海流。" * 40, markdown=False)
    longer = view.heightForWidth(200)
    assert longer > short  # a new text is laid out again
    font = QFont(view.font())
    font.setPointSize(font.pointSize() * 3)
    view.setFont(font)
    assert view.heightForWidth(200) > longer  # so is a new font
