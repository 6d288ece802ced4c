"""The delimiters, number and date formats, and the checked text every X12 writer here shares.

OpenIOP writes with one fixed set of delimiters (see README.md): segment ``~``, element ``*``, component ``:``,
repetition ``^``. A value that contains one of them, or a character outside printable ASCII (the X12 5010 extended
character set: pyx12 rejects "ñ" or "é"), cannot be written: the dataclasses refuse it when they are built
(``ValueError`` naming the class and field), because stripping or transliterating it silently would send a payer a
different member id or name than the one on file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SEGMENT = "~"
ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
DELIMITERS = (SEGMENT, ELEMENT, COMPONENT, REPETITION)
_DELIMITER_SET = frozenset(DELIMITERS)
_CENT = Decimal("0.01")


def _unwritable(ch: str) -> bool:
    return ch in _DELIMITER_SET or not " " <= ch <= "~"


def bad_character(value: str) -> str | None:
    """The first character of ``value`` that X12 text with our delimiters cannot carry, or None."""
    if value.isascii() and value.isprintable() and _DELIMITER_SET.isdisjoint(value):
        return None  # the common case, checked without a Python-level loop
    return next((ch for ch in value if _unwritable(ch)), None)


def check_text(value: str, field: str) -> None:
    ch = bad_character(value)
    if ch is not None:
        shown = f"'{ch}' (an X12 delimiter)" if ch in _DELIMITER_SET else f"{ch!r} (not in the X12 character set)"
        raise ValueError(f"{field} contains {shown}; X12 cannot carry it, correct the value.")


class Checked:
    """Mixin for frozen dataclasses: every str field (and str in a tuple field) is checked when built."""

    def __post_init__(self) -> None:
        name = type(self).__name__
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value: Any = getattr(self, f.name)
            if isinstance(value, str):
                check_text(value, f"{name}.{f.name}")
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, str):
                        check_text(item, f"{name}.{f.name}")


def amount(value: Decimal | int) -> str:
    """A money amount as X12 wants it: at most two decimals, no trailing zeros (150, 150.5, -12.25)."""
    d = Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def quantity(value: Decimal | int) -> str:
    """A unit count (days, units, visits): up to three decimals, no trailing zeros."""
    d = Decimal(value).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def d8(value: date) -> str:
    return value.strftime("%Y%m%d")


def period(start: date, end: date | None) -> tuple[str, str]:
    """DTP format qualifier and value: D8 for one day, RD8 for a range."""
    if end is None or end == start:
        return "D8", d8(start)
    return "RD8", f"{d8(start)}-{d8(end)}"


def hhmm(value: datetime) -> str:
    return value.strftime("%H%M")


def composite(*parts: str) -> str:
    """Components joined by ':' with trailing empty ones dropped."""
    items = list(parts)
    while items and not items[-1]:
        items.pop()
    return COMPONENT.join(items)


class Segments:
    """An ordered list of segments, joined once at the end (no quadratic string building)."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, seg_id: str, *elements: str) -> None:
        items = list(elements)
        while items and not items[-1]:
            items.pop()
        self.items.append(ELEMENT.join((seg_id, *items)))

    def __len__(self) -> int:
        return len(self.items)

    def text(self, *, newlines: bool = False) -> str:
        sep = SEGMENT + "\n" if newlines else SEGMENT
        return sep.join(self.items) + sep


def dotless(code: str) -> str:
    """ICD-10-CM as X12 carries it: no decimal point (F33.1 -> F331)."""
    return code.replace(".", "").strip().upper()


def nonempty(values: Iterable[str]) -> list[str]:
    return [v for v in values if v]
