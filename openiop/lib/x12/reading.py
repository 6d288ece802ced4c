"""Shared by the readers: pyx12's ``X12Reader`` splits the text (it reads the delimiters from the ISA), and these
helpers turn element text into dates and amounts."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import pyx12.errors
import pyx12.x12file


class X12ReadError(ValueError):
    """The text is not an X12 file of the expected kind, or a value in it is unreadable. The message says what is
    wrong and never quotes the file (a bad date may be a birth date)."""


@dataclass(frozen=True, slots=True)
class Seg:
    """One segment: its id and its elements, each a tuple of its components."""

    id: str
    elements: tuple[tuple[str, ...], ...]

    def get(self, element: int, component: int = 1) -> str:
        """Element ``element`` (1-based, as in CLP01), component ``component``; "" when absent."""
        if element > len(self.elements):
            return ""
        parts = self.elements[element - 1]
        return parts[component - 1] if component <= len(parts) else ""

    def components(self, element: int) -> tuple[str, ...]:
        return self.elements[element - 1] if element <= len(self.elements) else ()


def segments(text: str, *, expect: str) -> tuple[list[Seg], str]:
    """The file's segments and its repetition separator (ISA11). ``expect`` is the ST01 the reader wants (999,
    835...); a file without it raises ``X12ReadError``."""
    if not text or not text.lstrip().startswith("ISA"):
        raise X12ReadError("The text is not an X12 file (it does not start with ISA).")
    try:
        reader = pyx12.x12file.X12Reader(io.StringIO(text))
        repetition = reader.repetition_term or "^"
        out = [
            Seg(
                seg.get_seg_id() or "",
                tuple(tuple(element.get_value() for element in comp.elements) for comp in seg.elements),
            )
            for seg in reader
        ]
    except (pyx12.errors.X12Error, pyx12.errors.EngineError, IndexError, KeyError, AttributeError, TypeError) as exc:
        raise X12ReadError(f"The X12 file could not be split into segments ({type(exc).__name__}).") from None
    if not any(seg.id == "ST" and seg.get(1) == expect for seg in out):
        raise X12ReadError(f"The file holds no {expect} transaction set.")
    return out, repetition


def after(segs: list[Seg], index: int, stop: frozenset[str]) -> Iterator[tuple[int, Seg]]:
    """Segments after ``index`` up to (not including) the next one whose id is in ``stop``."""
    for i in range(index + 1, len(segs)):
        if segs[i].id in stop:
            return
        yield i, segs[i]


def money(value: str) -> Decimal:
    if not value:
        return Decimal(0)
    try:
        return Decimal(value)
    except InvalidOperation:
        raise X12ReadError("An amount in the file is not a number.") from None


def optional_money(value: str) -> Decimal | None:
    return money(value) if value else None


def date8(value: str) -> date | None:
    """CCYYMMDD to a date (None when empty)."""
    if not value:
        return None
    try:
        return date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise X12ReadError("A date in the file is not a CCYYMMDD date.") from None


def date_range(qualifier: str, value: str) -> tuple[date | None, date | None]:
    """DTP/DTM date: D8 one day, RD8 a range CCYYMMDD-CCYYMMDD."""
    if qualifier == "RD8" and "-" in value:
        start, end = value.split("-", 1)
        return date8(start), date8(end)
    day = date8(value)
    return day, day
