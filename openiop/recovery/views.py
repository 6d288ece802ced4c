"""Staff pages of the recovery supports log: the chart's Recovery supports tab (registered in ``recovery/apps.py``,
``VIEW_CLINICAL``; the chart audits the read), the meeting a patient reported in session that staff enter there
(``EDIT_CLINICAL``, HTMX like the Medications tab's writes; a refusal keeps what was typed, 422) and a program's
setting. The patient's own page is in ``portal.views_recovery``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, staff_view
from openiop.core.roles import Cap
from openiop.patients.emergency import grant_of
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_patient_for_user
from openiop.programs.models import Program
from openiop.programs.queries import managed_program_ids
from openiop.recovery import actions, policy
from openiop.recovery.charts import capital_chart, meetings_per_week
from openiop.recovery.forms import RecoveryPolicyForm, StaffMeetingForm, episode_of
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


def staff_episodes(user: User, patient: Patient) -> list[EpisodeOfCare]:
    """The patient's open episodes in the user's programs: the ones a staff member may log a meeting for."""
    return list(
        EpisodeOfCare.objects.filter(patient=patient, program_id__in=program_ids_for(user), status__in=actions.OPEN)
        .select_related("program")
        .order_by("admitted_on", "pk")
    )


def meetings_context(user: User, patient: Patient, form: StaffMeetingForm | None = None) -> dict[str, Any]:
    """The meetings part of the tab (what the staff entry re-renders): the list, its week strip and the form."""
    meetings = list(patient_meetings(user, patient)[:TAB_ROWS])
    episodes = staff_episodes(user, patient)
    writable = bool(episodes) and patient.is_active and grant_of(patient) is None and user.can(Cap.EDIT_CLINICAL)
    if form is None and writable:
        today = timezone.localdate(timezone=episodes[0].program.tz())
        form = StaffMeetingForm(episodes=episodes, initial={"met_on": today}, prefix="meeting")
    return {
        "patient": patient,
        "meetings": meetings,
        "meeting_strip": strip_for(meetings, timezone.localdate()),
        "meeting_form": form if writable else None,
        "backdate_days": policy.backdate_limit().days,
    }


def recovery_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for recovery/partials/tab_recovery.html: meetings (with a per-week strip and, for EDIT_CLINICAL, the
    form to enter one), check-ins (with their trend) and the sponsor."""
    user = request_user(request)
    check_ins = list(patient_check_ins(user, patient)[:TAB_ROWS])
    return {
        **meetings_context(user, patient),
        "check_ins": check_ins,
        "capital_chart": chart_for(check_ins),
        "capital_domains": CAPITAL_DOMAINS,
        "sponsor": actions.current_sponsor(patient),
    }


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def log_meeting(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A meeting the patient reported in session, entered by the staff member (who is its ``entered_by``): the
    portal's rules (not in the future, within the backdate limit). HTMX re-renders the meetings; without HTMX, back
    to the tab, or the meetings page again (422) keeping what was typed."""
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_CLINICAL)
    episodes = staff_episodes(user, patient)
    form = StaffMeetingForm(request.POST, episodes=episodes, prefix="meeting")
    if not episodes:
        form.add_error(None, "The patient has no open episode in your programs to log a meeting for.")
    elif form.is_valid():
        try:
            actions.do_log_meeting(patient, acting_user=user, episode=episode_of(form, episodes), **form.values())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            if not is_htmx(request):
                messages.success(request, "Meeting logged.")
                return redirect(f"{patient.get_absolute_url()}?tab=recovery")
            return _meetings_response(request, user, patient, None, 200)
    return _meetings_response(request, user, patient, form, 422)


def _meetings_response(
    request: HttpRequest, user: User, patient: Patient, form: StaffMeetingForm | None, status: int
) -> HttpResponse:
    # The response shows the patient's meetings: a chart read like the tab's.
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="recovery")
    template = "recovery/partials/meetings.html" if is_htmx(request) else "recovery/meetings_page.html"
    context = {"nav": "patients", **meetings_context(user, patient, form)}
    return render(request, template, context, status=status)


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
