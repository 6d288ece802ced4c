"""Forms of the roster: the details of one person's check-in, and a correction with its reason.

Times are typed as program-local wall-clock times (what staff read off the clock) and placed on the
session's local day here, so the actions only ever see aware datetimes.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms

from openiop.attendance.actions import REASON_MAX, REMARK_MAX
from openiop.attendance.models import AttendanceRecord
from openiop.core.forms import StyledFormMixin, TimeInput
from openiop.scheduling.models import Session

PARTICIPATION_CHOICES = [("", "—"), *AttendanceRecord.Participation.choices]
DETAIL_FIELDS = ("late_minutes", "left_early_minutes", "arrived_at", "departed_at", "participation", "remark")


def local_moment(session: Session, value: time | None) -> datetime | None:
    """The wall-clock time on the session's local day (the next day for a session running past midnight)."""
    if value is None:
        return None
    tz = session.program.tz()
    start = session.starts_at.astimezone(tz)
    moment = datetime.combine(start.date(), value, tzinfo=tz)
    if moment < start - timedelta(hours=12):
        moment = datetime.combine(start.date() + timedelta(days=1), value, tzinfo=tz)
    return moment


class CheckInForm(StyledFormMixin, forms.Form):
    """A tap sends only ``status``; the row's details panel sends everything (``details`` set)."""

    status = forms.ChoiceField(choices=AttendanceRecord.Status.choices)
    details = forms.BooleanField(required=False, widget=forms.HiddenInput)
    late_minutes = forms.IntegerField(required=False, min_value=0, max_value=480, label="Minutes late")
    left_early_minutes = forms.IntegerField(required=False, min_value=0, max_value=480, label="Minutes left early")
    arrived = forms.TimeField(required=False, widget=TimeInput(), label="Arrived (or joined) at")
    departed = forms.TimeField(required=False, widget=TimeInput(), label="Left at")
    participation = forms.ChoiceField(choices=PARTICIPATION_CHOICES, required=False)
    remark = forms.CharField(required=False, max_length=REMARK_MAX, label="Short remark")

    def __init__(self, *args: Any, session: Session, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session

    def action_fields(self) -> dict[str, Any]:
        """What to pass to do_check_in: the status alone for a tap, every detail from the panel."""
        data = self.cleaned_data
        if not data.get("details") and not isinstance(self, CorrectionForm):
            return {}
        return {
            "late_minutes": data.get("late_minutes") or 0,
            "left_early_minutes": data.get("left_early_minutes") or 0,
            "arrived_at": local_moment(self.session, data.get("arrived")),
            "departed_at": local_moment(self.session, data.get("departed")),
            "participation": data.get("participation") or "",
            "remark": data.get("remark") or "",
        }

    @staticmethod
    def field_for(action_field: str) -> str:
        return {"arrived_at": "arrived", "departed_at": "departed"}.get(action_field, action_field)


class CorrectionForm(CheckInForm):
    """The whole record, as it should be (every field is sent), and why."""

    reason = forms.CharField(
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required. Say what was wrong and how you know (e.g. the sign-in sheet); no clinical detail.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["details"].initial = True
        # Blank is allowed here so the action names the missing reason (with the rest of what is wrong).
        self.fields["reason"].required = False


def initial_for(record: AttendanceRecord, session: Session) -> dict[str, Any]:
    tz = session.program.tz()
    return {
        "status": record.status,
        "details": True,
        "late_minutes": record.late_minutes or None,
        "left_early_minutes": record.left_early_minutes or None,
        "arrived": record.arrived_at.astimezone(tz).time().replace(second=0, microsecond=0)
        if record.arrived_at
        else None,
        "departed": record.departed_at.astimezone(tz).time().replace(second=0, microsecond=0)
        if record.departed_at
        else None,
        "participation": record.participation,
        "remark": record.remark,
        "version": record.version,
    }
