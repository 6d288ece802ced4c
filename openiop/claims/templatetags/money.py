"""``{{ amount|money }}``: dollars with two decimals, thousands grouped, and the minus sign before the dollar sign
(-$2,200.00, as statements print it; ``floatformat`` after a "$" gives "$-2,200.00"). Empty for no amount."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()


@register.filter
def money(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"
