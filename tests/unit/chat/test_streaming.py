"""Utf8Stream and StopMatcher: the two pieces between token bytes and the text on screen."""

from __future__ import annotations

import itertools

import pytest

from runtime.chat.streaming import StopMatcher, Utf8Stream

# 1-, 2-, 3- and 4-byte UTF-8 characters: ASCII, é, CJK (including 犇, which the Chinese-LLaMA
# vocabulary only has as byte pieces), and an emoji.
CHINESE = "你好，Alpaca! 犇é🦙。"


def _feed_all(pieces: list[bytes], *, strip: bool = False) -> list[str]:
    stream = Utf8Stream(strip_leading_space=strip)
    out = [stream.feed(piece) for piece in pieces]
    out.append(stream.flush())
    return out


def test_every_single_split_point_gives_the_text_back() -> None:
    data = CHINESE.encode("utf-8")
    for cut in range(len(data) + 1):
        out = _feed_all([data[:cut], data[cut:]])
        assert "".join(out) == CHINESE, cut
        assert all("\ufffd" not in part for part in out), cut


def test_every_pair_of_split_points_gives_whole_characters() -> None:
    data = CHINESE.encode("utf-8")
    for a, b in itertools.combinations(range(len(data) + 1), 2):
        out = _feed_all([data[:a], data[a:b], data[b:]])
        assert "".join(out) == CHINESE, (a, b)
        # Each emitted part is a run of whole characters of the text, in order.
        assert all("\ufffd" not in part for part in out), (a, b)


def test_byte_by_byte_emits_each_character_once_it_is_complete() -> None:
    data = CHINESE.encode("utf-8")
    out = _feed_all([bytes([b]) for b in data])
    assert "".join(out) == CHINESE
    emitted = [part for part in out if part]
    assert emitted == list(CHINESE)  # one character per emission, never half of one
    # 🦙 is four bytes: three feeds give nothing, the fourth gives the character.
    start = len(CHINESE[: CHINESE.index("🦙")].encode("utf-8"))
    assert out[start : start + 4] == ["", "", "", "🦙"]


def test_invalid_and_unfinished_bytes_become_replacement_characters() -> None:
    stream = Utf8Stream(strip_leading_space=False)
    assert stream.feed(b"\xe7\x8a") == ""  # held: may still become 犇
    assert stream.feed(b"A") == "\ufffdA"  # cannot: the held bytes are reported, once
    assert stream.feed(b"\xf0\x9f") == ""
    assert stream.flush() == "\ufffd"  # the answer ended mid-character
    assert stream.flush() == ""


def test_leading_space_is_stripped_only_before_the_first_visible_character() -> None:
    stream = Utf8Stream(strip_leading_space=True)
    assert stream.feed(b" ") == ""
    assert stream.feed(b" \n") == ""
    assert stream.feed(" 你".encode()) == "你"
    assert stream.feed(" 好".encode()) == " 好"
    kept = Utf8Stream(strip_leading_space=False)
    assert kept.feed(b" there") == " there"
    # A blank answer flushes to nothing.
    blank = Utf8Stream()
    assert blank.feed(b"  ") == ""
    assert blank.flush() == ""


def test_stop_matcher_without_stops_passes_text_through() -> None:
    matcher = StopMatcher(())
    for text in ["###", " Instruction", ":", "你好"]:
        assert matcher.feed(text) == (text, False)
    assert matcher.flush() == ""
    assert StopMatcher(["", ""]).feed("### Instruction:") == ("### Instruction:", False)


def test_stop_matcher_holds_back_a_possible_stop_string() -> None:
    matcher = StopMatcher(["### Instruction:"])
    assert matcher.feed("答案是42。\n\n#") == ("答案是42。\n\n", False)
    assert matcher.feed("##") == ("", False)
    assert matcher.feed(" Instr") == ("", False)
    # Not the stop string after all: everything held comes out, in order.
    assert matcher.feed("ument") == ("### Instrument", False)
    assert matcher.flush() == ""


def test_stop_matcher_cuts_at_the_stop_string_across_pieces() -> None:
    matcher = StopMatcher(["### Instruction:"])
    shown = []
    hit = False
    for piece in ["好的", "。\n\n##", "# Inst", "ruction:", "\n\n再来"]:
        text, hit = matcher.feed(piece)
        shown.append(text)
        if hit:
            break
    assert hit
    assert "".join(shown) == "好的。\n\n"


def test_stop_matcher_cuts_at_the_earliest_of_several_stops() -> None:
    matcher = StopMatcher(["[INST]", "</s>", "\n\n"])
    assert matcher.feed("one</s>two[INST]") == ("one", True)
    matcher = StopMatcher(["world", "lo"])
    assert matcher.feed("hello world") == ("hel", True)


def test_stop_matcher_flush_returns_held_text_when_generation_ends() -> None:
    matcher = StopMatcher(["### Instruction:"])
    assert matcher.feed("结束了 ##") == ("结束了 ", False)
    assert matcher.flush() == "##"
    assert matcher.flush() == ""


@pytest.mark.parametrize("stop", ["ab", "aab", "abab"])
def test_stop_matcher_every_split_of_a_stream(stop: str) -> None:
    """Whatever the pieces, shown text is the prefix before the first stop, or all of it."""
    text = "xaababyabab"
    expected_cut = text.find(stop)
    for a, b in itertools.combinations(range(len(text) + 1), 2):
        matcher = StopMatcher([stop])
        shown = ""
        hit = False
        for piece in (text[:a], text[a:b], text[b:]):
            out, hit = matcher.feed(piece)
            shown += out
            if hit:
                break
        if not hit:
            shown += matcher.flush()
        assert hit == (expected_cut >= 0)
        assert shown == (text[:expected_cut] if hit else text), (a, b)
