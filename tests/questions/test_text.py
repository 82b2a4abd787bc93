"""Text as clinicians read it: which characters show_bidi writes as visible codes."""

from __future__ import annotations

import sys
import unicodedata

from markupsafe import Markup

from questionnaire.questions.text import BIDI_CONTROLS, LINE_CONTROLS, show_bidi, shown


def _should_show_as_code(char: str) -> bool:
    return char in BIDI_CONTROLS or (
        unicodedata.category(char) == "Cc" and char not in LINE_CONTROLS
    )


def test_show_bidi_codes_exactly_the_bidi_and_control_characters_of_all_unicode() -> None:
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        expected = f"[U+{point:04X}]" if _should_show_as_code(char) else char
        assert show_bidi(char) == expected, f"U+{point:04X}"


def test_show_bidi_keeps_text_around_a_code_and_leaves_line_breaks() -> None:
    assert show_bidi("Ana\u202eïs\t·\n") == "Ana[U+202E]ïs\t·\n"
    assert show_bidi("Zoë · 45") == "Zoë · 45"


def test_the_page_finalizer_codes_plain_text_and_leaves_markup_and_numbers() -> None:
    assert shown("a\u2066b") == "a[U+2066]b"
    assert shown(Markup("<b>\u2066</b>")) == Markup("<b>\u2066</b>")
    assert shown(45) == 45
