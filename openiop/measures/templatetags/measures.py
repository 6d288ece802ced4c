from __future__ import annotations

from django import template

from openiop.measures import instruments

register = template.Library()


@register.filter
def short_name(code: str) -> str:
    """An instrument code as staff say it (phq9 -> PHQ-9); an unknown code shows as stored."""
    instrument = instruments.REGISTRY.get(code)
    return instrument.short_name if instrument else code


@register.filter
def band_label(code: str, key: str) -> str:
    instrument = instruments.REGISTRY.get(code)
    if instrument is None:
        return key
    return next((b.label for b in instrument.bands if b.key == key), key)


@register.filter
def item_labels(codes: list[str], instrument_code: str) -> str:
    """Item codes as staff say them: ["phq9_9"] -> "item 9"."""
    instrument = instruments.REGISTRY.get(instrument_code)
    labels = []
    for code in codes or []:
        try:
            labels.append(f"item {instrument.item(code).display_number}" if instrument else code)
        except KeyError:
            labels.append(code)
    return ", ".join(labels)
