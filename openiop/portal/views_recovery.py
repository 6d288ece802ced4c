"""The patient's Recovery page in the portal: the mutual-help meetings they go to (log, and change within the edit
window), their sponsor, and a recovery capital check-in when one of their programs asks for it and it is due.

Like the care pages: ``portal_view(AccountKind.PATIENT)`` (anonymous: the portal login; staff: 404; family: 403),
every lookup inside ``request.portal_account.patient`` (404 otherwise), every read audited with the portal login as
the actor, writes through ``recovery.actions`` (which audit them), ``Cache-Control: no-store``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.core.forms import add_action_errors
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.portal import care
from openiop.portal.views_care import _account, _page, _viewed, patient_page
from openiop.recovery import actions, policy
from openiop.recovery.charts import meetings_per_week
from openiop.recovery.forms import CapitalForm, MeetingForm, SponsorForm, episode_of
from openiop.recovery.queries import get_own_meeting, own_check_ins, own_meetings

MEETING_LIST = 50


def _due_episodes(patient: Patient, episodes: list[EpisodeOfCare]) -> list[EpisodeOfCare]:
    """The open episodes whose program asks for a recovery capital check-in that is due today."""
    last: dict[int, Any] = {}
    for row in own_check_ins(patient).filter(episode__in=episodes).order_by("taken_on"):
        last[row.episode_id] = row.taken_on
    return [
        e for e in episodes
        if policy.capital_due(e.program, last.get(e.pk), timezone.localdate(timezone.now(), e.program.tz()))
    ]  # fmt: skip


def _sponsor_form(patient: Patient, data: Any = None) -> SponsorForm:
    sponsor = actions.current_sponsor(patient)
    initial = {"name": sponsor.name, "phone": sponsor.phone} if sponsor else {}
    return SponsorForm(data, initial=initial, prefix="sponsor")


def _recovery_page(
    request: HttpRequest,
    *,
    meeting_form: MeetingForm | None = None,
    sponsor_form: SponsorForm | None = None,
    capital_form: CapitalForm | None = None,
    status: int = 200,
) -> HttpResponse:
    patient = _account(request).patient
    user = request_user(request)
    now = timezone.now()
    episodes = care.open_episodes(patient)
    due = _due_episodes(patient, episodes)
    if meeting_form is None and episodes:
        today = timezone.localdate(now, episodes[0].program.tz())
        meeting_form = MeetingForm(episodes=episodes, initial={"met_on": today}, prefix="meeting")
    if capital_form is None and due:
        capital_form = CapitalForm(episodes=due, prefix="capital")
    meetings = list(own_meetings(patient)[:MEETING_LIST])
    _viewed(request, patient, object_type="meeting_log")
    return _page(
        request,
        "portal/care/recovery.html",
        {
            "nav": "recovery",
            "meeting_form": meeting_form if episodes else None,
            "sponsor_form": sponsor_form or _sponsor_form(patient),
            "capital_form": capital_form if due else None,
            "meetings": [(m, actions.editable(m, user, now)) for m in meetings],
            "strip": meetings_per_week([m.met_on for m in meetings], today=timezone.localdate(now)),
            "backdate_days": policy.backdate_limit().days,
        },
        status=status,
    )


def _submit(request: HttpRequest, form: Any, slot: str, write: Callable[[], str]) -> HttpResponse:
    """Run one of the page's writes: back to the page with ``write``'s message, or the page again (422) with the
    action's errors on ``form``, which keeps what was typed (``slot`` names the form in the page)."""
    if form.is_valid():
        try:
            message = write()
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, message)
            return redirect("portal:recovery")
    return _recovery_page(request, status=422, **{slot: form})


@never_cache
@patient_page
def recovery(request: HttpRequest) -> HttpResponse:
    """The meeting log (newest first, with meetings per week), the sponsor, and a check-in when one is due."""
    if request.method != "POST":
        return _recovery_page(request)
    patient = _account(request).patient
    episodes = care.open_episodes(patient)
    if not episodes:
        raise Http404
    form = MeetingForm(request.POST, episodes=episodes, prefix="meeting")

    def write() -> str:
        episode = episode_of(form, episodes)
        actions.do_log_meeting(patient, acting_user=request_user(request), episode=episode, **form.values())
        return "Meeting logged. Every meeting counts."

    return _submit(request, form, "meeting_form", write)


@require_POST
@patient_page
def recovery_sponsor(request: HttpRequest) -> HttpResponse:
    patient = _account(request).patient
    form = _sponsor_form(patient, request.POST)

    def write() -> str:
        data = form.cleaned_data
        sponsor = actions.do_set_sponsor(
            patient, acting_user=request_user(request), name=data["name"], phone=data["phone"]
        )
        return "Sponsor saved." if sponsor else "Sponsor removed."

    return _submit(request, form, "sponsor_form", write)


@require_POST
@patient_page
def recovery_check_in(request: HttpRequest) -> HttpResponse:
    patient = _account(request).patient
    due = _due_episodes(patient, care.open_episodes(patient))
    if not due:
        raise Http404
    form = CapitalForm(request.POST, episodes=due, prefix="capital")

    def write() -> str:
        episode = episode_of(form, due)
        actions.do_check_in_capital(patient, acting_user=request_user(request), episode=episode, **form.ratings())
        return "Check-in saved. Thank you."

    return _submit(request, form, "capital_form", write)


@never_cache
@patient_page
def recovery_meeting_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    patient = _account(request).patient
    user = request_user(request)
    meeting = get_own_meeting(patient, public_id)
    initial = {name: getattr(meeting, name) for name in actions.MEETING_FIELDS}
    # A meeting stays with the program it was logged for: no program choice.
    form = MeetingForm(request.POST if request.method == "POST" else None, episodes=[meeting.episode], initial=initial)
    can_edit = actions.editable(meeting, user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.do_update_meeting(meeting, acting_user=user, **form.values())
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Meeting updated.")
                return redirect("portal:recovery")
        status = 422
    else:
        _viewed(request, patient, obj=meeting)
    return _page(
        request,
        "portal/care/recovery_edit.html",
        {"nav": "recovery", "meeting": meeting, "form": form, "can_edit": can_edit,
         "edit_hours": int(policy.edit_window().total_seconds() // 3600)},
        status=status,
    )  # fmt: skip
