"""``attendance_recorded`` is emitted inside the transaction that creates or corrects an attendance record, so what
handles it (the absence policy in worklist, billable days in billing, late group-note parts in notes) commits or
rolls back with the record; a handler's exception fails the check-in. Billing writes only that the day needs
deciding here, and decides it after the commit (``billing.days.request_decision``).

It is a ``core.hooks.Hook`` (ordered, synchronous, refused outside a transaction), emitted explicitly by
``actions._create`` and ``actions._change``; apps above attendance register from their ``AppConfig.ready()``. The
registered handlers and their order are listed in ``docs/architecture.md`` ("Episode events and hooks").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openiop.core.hooks import Hook

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.attendance.models import AttendanceRecord


@dataclass(frozen=True, kw_only=True)
class AttendanceRecorded:
    """``record`` as saved (its ``session`` attached when the action read it), ``previous`` the snapshot of its
    fields before the change (``actions.snapshot``) or None when it was just created. Handlers must not commit."""

    record: AttendanceRecord
    previous: dict[str, Any] | None
    acting_user: User | None


attendance_recorded: Hook[AttendanceRecorded] = Hook("attendance.recorded")
