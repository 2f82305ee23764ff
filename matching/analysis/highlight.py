"""Where matched terms occur in a text, for highlighting on the staff page."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from matching.analysis.text import WORD, get_analyzer

__all__ = ["highlight_spans", "excerpt"]

_WORD = WORD  # the analyser's words, Arabic vowel marks included


def highlight_spans(text: str, stems: Iterable[str], language: str = "fr") -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the words of ``text`` whose index term is in ``stems``.

    Offsets refer to ``text`` as given (after NFC normalisation, which keeps lengths of
    ordinary French text unchanged), so a caller can wrap them in ``<mark>``.
    """
    wanted = set(stems)
    if not wanted:
        return []
    analyzer = get_analyzer(language)
    text = unicodedata.normalize("NFC", text)
    spans = []
    for m in _WORD.finditer(text):
        if any(t.term in wanted for t in analyzer.word(m.group())):
            spans.append((m.start(), m.end()))
    return spans


def excerpt(text: str, spans: list[tuple[int, int]], width: int = 320) -> tuple[str, list[tuple[int, int]]]:
    """A window of about ``width`` characters around the densest run of spans, re-based spans."""
    if len(text) <= width:
        return text, spans
    if not spans:
        cut = text[:width].rsplit(" ", 1)[0]
        return cut + " …", []
    best_start, best_count = 0, -1
    for s, _ in spans:
        count = sum(1 for a, b in spans if s <= a and b <= s + width)
        if count > best_count:
            best_start, best_count = s, count
    start = max(0, best_start - width // 6)
    start = text.rfind(" ", 0, start) + 1 if start > 0 else 0
    end = min(len(text), start + width)
    if end < len(text):
        end = max(text.rfind(" ", start, end), start + 1)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    inside = [(a - start + len(prefix), b - start + len(prefix)) for a, b in spans if a >= start and b <= end]
    return prefix + text[start:end] + suffix, inside
