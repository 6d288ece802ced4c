"""Staff pages of the recovery supports log: the chart's Recovery supports tab (registered in ``recovery/apps.py``,
``VIEW_CLINICAL``; the chart audits the read) and a program's setting. The patient's own page is in
``portal.views_recovery``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from openiop.accounts.http import request_user
from openiop.core.forms import add_action_errors
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs.models import Program
from openiop.programs.queries import managed_program_ids
from openiop.recovery import actions, policy
from openiop.recovery.charts import capital_chart, meetings_per_week
from openiop.recovery.forms import RecoveryPolicyForm
from openiop.recovery.models import CAPITAL_DOMAINS, DOMAIN_KEYS, CapitalCheckIn, MeetingAttendance
from openiop.recovery.queries import patient_check_ins, patient_meetings

# How many meetings and check-ins the tab lists.
TAB_ROWS = 60


def strip_for(meetings: list[MeetingAttendance], today: Any) -> Any:
    return meetings_per_week([m.met_on for m in meetings], today=today)


def chart_for(check_ins: list[CapitalCheckIn]) -> Any:
    return capital_chart(
        [(c.taken_on, [getattr(c, k) for k in DOMAIN_KEYS]) for c in check_ins],
        [label for _, label, _ in CAPITAL_DOMAINS],
    )


def recovery_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for recovery/partials/tab_recovery.html: meetings (with a per-week strip), check-ins (with their
    trend) and the sponsor."""
    user = request_user(request)
    meetings = list(patient_meetings(user, patient)[:TAB_ROWS])
    check_ins = list(patient_check_ins(user, patient)[:TAB_ROWS])
    return {
        "meetings": meetings,
        "meeting_strip": strip_for(meetings, timezone.localdate()),
        "check_ins": check_ins,
        "capital_chart": chart_for(check_ins),
        "capital_domains": CAPITAL_DOMAINS,
        "sponsor": actions.current_sponsor(patient),
    }


@staff_view(Cap.MANAGE_PROGRAMS)
def program_setup(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Whether the program's patients are asked for recovery capital check-ins, and how often."""
    user = request_user(request)
    program = get_object_or_404(
        Program.objects.select_related("site").filter(pk__in=managed_program_ids(user)), public_id=public_id
    )
    row = policy.policy_for(program)
    initial = {"capital_check_ins": row.capital_check_ins, "capital_every_days": row.capital_every_days}
    form = RecoveryPolicyForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.do_set_recovery_policy(program, acting_user=user, **form.cleaned_data)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Recovery supports setting saved.")
                return redirect("recovery:setup", program.public_id)
        status = 422
    return render(request, "recovery/setup.html", {"nav": "admin", "program": program, "form": form}, status=status)
