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
