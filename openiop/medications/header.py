"""The chart header's MOUD flag (registered in medications/apps.py): shown when the patient takes a medication for
opioid use disorder today, among the medications the user may read (a substance-use program's list stays with its
staff), so the whole team knows before they talk about dosing, pain relief or a drug test."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from openiop.accounts.http import request_user
from openiop.core.roles import Cap
from openiop.medications import queries


def moud_flag(request: Any, patient: Any) -> dict[str, Any] | None:
    user = request_user(request)
    if not user.can(Cap.VIEW_CLINICAL):
        return None
    today = timezone.localdate()
    names = [
        m.name
        for m in queries.medications_for_user(user, patient).filter(is_moud=True).order_by("name")
        if m.active_on(today)
    ]
    if not names:
        return None
    return {"moud_names": names, "moud_url": f"{patient.get_absolute_url()}?tab=medications"}
