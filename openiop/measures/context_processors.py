"""The safety-alert banner on every staff page: one count query, only for people who read clinical data."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from openiop.core.roles import Cap


def safety_alerts(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.can(Cap.VIEW_CLINICAL):
        return {}
    from openiop.measures.queries import banner_alert_count

    # Lazy: pages that never render the banner (JSON, HTMX fragments without base.html) pay nothing.
    return {"safety_alert_count": _Lazy(lambda: banner_alert_count(user))}


class _Lazy:
    def __init__(self, compute: Any) -> None:
        self._compute = compute
        self._value: int | None = None

    def value(self) -> int:
        if self._value is None:
            self._value = int(self._compute())
        return self._value

    def __int__(self) -> int:
        return self.value()

    def __float__(self) -> float:
        return float(self.value())

    def __bool__(self) -> bool:
        return self.value() > 0

    def __str__(self) -> str:
        return str(self.value())
