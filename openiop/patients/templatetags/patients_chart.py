"""``{% chart_flags patient %}``: the alerts other apps registered for the chart header (core.registry.header_flags)."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from openiop.core import registry

register = template.Library()


@register.simple_tag(takes_context=True)
def chart_flags(context: Any, patient: Any) -> SafeString:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return SafeString("")
    parts = []
    for flag in registry.header_flags:
        if not flag.visible_to(user):
            continue
        built = flag.build(request, patient)
        if built is not None:
            # Without the request, so no context processor runs (and queries) once per flag.
            parts.append((render_to_string(flag.template, built),))
    return format_html_join("", "{}", parts)
