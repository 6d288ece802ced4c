"""The patient's care pages in the portal: check-ins (questionnaires and their own scores), the treatment plan and
its signature, the skills-practice log, and the aftercare plan.

Every page is ``portal_view(AccountKind.PATIENT)`` (anonymous: the portal login; staff: 404; family: 403) and looks
records up only inside ``request.portal_account.patient`` (404 otherwise). Every page that reads the record
writes an audit row with the portal login as the actor; writes go through the owning app's actions, which audit
them. The questionnaire is the measures form itself (same template, answers saved as given, the crisis resources
shown on the click of a critical answer, the safety alert raised in the transaction that stores it).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.consents import disclosures
from openiop.core import audit
from openiop.core.forms import StyledFormMixin, add_action_errors
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.discharge.models import CRISIS_RESOURCES
from openiop.measures import questionnaire
from openiop.measures.actions import do_complete, do_save_answers
from openiop.measures.models import Administration
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.plans.actions import do_patient_sign
from openiop.plans.models import PlanVersion
from openiop.portal import care
from openiop.portal.access import portal_view
from openiop.portal.models import AccountKind, PortalAccount
from openiop.skills import policy as skills_policy
from openiop.skills.actions import do_log_practice, do_update_practice, editable
from openiop.skills.charts import chart_for_entries
from openiop.skills.forms import PracticeForm
from openiop.skills.queries import get_own_entry, own_entries

patient_page = portal_view(AccountKind.PATIENT)
# Answers typed in the portal are the patient's own, on their own device: a link answer with the actor known.
PORTAL_CHANNEL = Administration.Channel.LINK
PRACTICE_LIST = 50


def _account(request: HttpRequest) -> PortalAccount:
    return request.portal_account  # type: ignore[attr-defined]


def _viewed(request: HttpRequest, patient: Patient, *, obj: Any = None, object_type: str = "") -> None:
    audit.record(
        action=AuditAction.RECORD_VIEWED,
        acting_user=request_user(request),
        patient=patient,
        obj=obj,
        object_type=object_type,
    )


def _private(response: HttpResponse) -> HttpResponse:
    # The patient's record on a possibly shared device: never kept in a cache.
    response["Cache-Control"] = "no-store"
    return response


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    base = {"portal_account": _account(request), "patient": _account(request).patient}
    return _private(render(request, template, {**base, **context}, status=status))


# --- Check-ins -----------------------------------------------------------------------------------------------


@never_cache
@patient_page
def questionnaires(request: HttpRequest) -> HttpResponse:
    patient = _account(request).patient
    due = [(a, care.topic(a.instrument_code)) for a in care.open_administrations(patient)]
    history, panels = care.check_in_history(patient)
    _viewed(request, patient, object_type="portal_check_ins")
    return _page(
        request,
        "portal/care/questionnaires.html",
        {"nav": "questionnaires", "due": due, "history": history, "panels": panels},
    )


def _urls(administration: Administration) -> dict[str, str]:
    args = [administration.public_id]
    return {
        "form": reverse("portal:questionnaire", args=args),
        "answer": reverse("portal:questionnaire_answer", args=args),
        "submit": reverse("portal:questionnaire_submit", args=args),
    }


def _form_context(administration: Administration, **extra: Any) -> dict[str, Any]:
    organization = administration.episode.program.site.organization
    return {
        "nav": "questionnaires",
        "q": questionnaire.build(administration, extra.pop("answers", None), extra.get("errors")),
        "administration": administration,
        "topic": care.topic(administration.instrument_code),
        "clinic_phone": organization.phone,
        "urls": _urls(administration),
        "verbatim_rule": questionnaire.VERBATIM_RULE,
        **extra,
    }


@never_cache
@patient_page
def questionnaire_form(request: HttpRequest, public_id: UUID) -> HttpResponse:
    patient = _account(request).patient
    administration = care.get_open_administration(patient, public_id)
    _viewed(request, patient, obj=administration)
    return _page(request, "portal/care/questionnaire.html", _form_context(administration))


@require_POST
@patient_page
def questionnaire_answer(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Saves the answers given so far (HTMX on every change, or "Save and finish later")."""
    patient = _account(request).patient
    administration = care.get_open_administration(patient, public_id)
    posted = questionnaire.posted_answers(questionnaire.build(administration).instrument, request.POST)
    errors: dict[str, list[str]] = {}
    try:
        administration = do_save_answers(
            administration, posted, acting_user=request_user(request), channel=PORTAL_CHANNEL
        )
    except ValidationError as exc:
        errors = exc.message_dict
    administration = care.get_own_administration(patient, administration.public_id)
    context = _form_context(administration, errors=errors)
    if is_htmx(request):
        context["changed"] = questionnaire.changed_items(context["q"], request.POST.getlist("shown"), errors)
        return _page(request, "measures/public/partials/answer_response.html", context)
    if errors:
        return _page(request, "portal/care/questionnaire.html", context, status=422)
    messages.info(request, "Your answers are saved. Come back to finish when you are ready.")
    return redirect("portal:questionnaires")


@require_POST
@patient_page
def questionnaire_submit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    patient = _account(request).patient
    user = request_user(request)
    administration = care.get_open_administration(patient, public_id)
    posted = questionnaire.posted_answers(questionnaire.build(administration).instrument, request.POST)
    try:
        administration = do_save_answers(administration, posted, acting_user=user, channel=PORTAL_CHANNEL)
    except ValidationError as exc:
        context = _form_context(administration, errors=exc.message_dict)
        return _page(request, "portal/care/questionnaire.html", context, status=422)
    administration = care.get_own_administration(patient, administration.public_id)
    q = questionnaire.build(administration)
    if q.missing and not request.POST.get("confirm_missing"):
        # Say so once; the patient may still send it (the instrument's missing-item rule decides the score).
        return _page(request, "portal/care/questionnaire.html", _form_context(administration, confirm_missing=True))
    administration = do_complete(administration, acting_user=user, channel=PORTAL_CHANNEL)
    crisis = q.crisis or hasattr(administration, "safety_alert")
    administration = care.get_own_administration(patient, administration.public_id)
    return _page(
        request,
        "portal/care/questionnaire_done.html",
        {
            "nav": "questionnaires",
            "crisis": crisis,
            "clinic_phone": administration.episode.program.site.organization.phone,
            "check_in": care.check_in(administration),
            "more_due": care.open_administrations(patient).exists(),
        },
    )


# --- Treatment plan ------------------------------------------------------------------------------------------


class PlanSignForm(StyledFormMixin, forms.Form):
    patient_signature_name = forms.CharField(
        label="Type your full name to sign",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    agreed = forms.BooleanField(label="I took part in writing this plan and I agree with it.", required=False)


def _plan_page(request: HttpRequest, form: PlanSignForm | None = None, status: int = 200) -> HttpResponse:
    patient = _account(request).patient
    versions = care.plan_versions(patient)
    for version in versions:
        _viewed(request, patient, obj=version)
    if not versions:
        _viewed(request, patient, object_type="portal_plan")
    return _page(
        request,
        "portal/care/plan.html",
        {
            "nav": "plan",
            "versions": versions,
            "form": form or PlanSignForm(),
            "awaiting": PlanVersion.Status.AWAITING_PATIENT,
        },
        status=status,
    )


@never_cache
@patient_page
def plan(request: HttpRequest) -> HttpResponse:
    return _plan_page(request)


@require_POST
@patient_page
def plan_sign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The patient signs their plan themself: a typed name, with the time, address and browser in the audit row."""
    patient = _account(request).patient
    version = care.get_awaiting_version(patient, public_id)
    in_force = version.status == PlanVersion.Status.ACTIVE  # the clinician-signature rule: it applies already
    form = PlanSignForm(request.POST)
    if form.is_valid():
        try:
            do_patient_sign(
                version,
                acting_user=request_user(request),
                name=form.cleaned_data["patient_signature_name"],
                method=PlanVersion.SignatureMethod.TYPED,
                agreed=bool(form.cleaned_data["agreed"]),
                self_signed=True,
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(
                request,
                "Thank you. You signed your treatment plan."
                if in_force
                else "Thank you. You signed your treatment plan; it is now your plan in force.",
            )
            return redirect("portal:plan")
    return _plan_page(request, form, status=422)


# --- Skills practice -----------------------------------------------------------------------------------------


def _practice_form(
    episodes: list[EpisodeOfCare], data: Any = None, *, initial: dict[str, Any] | None = None
) -> PracticeForm:
    """The entry form for these episodes' programs: their skills lists merged, craving asked if any asks it."""
    skills: list[str] = []
    for episode in episodes:
        skills += [s for s in skills_policy.skills_for(episode.program) if s not in skills]
    return PracticeForm(
        data,
        initial=initial,
        skills=skills,
        episodes=episodes,
        ask_craving=any(skills_policy.asks_craving(e.program) for e in episodes),
    )


def _episode_of(form: PracticeForm, episodes: list[EpisodeOfCare]) -> EpisodeOfCare:
    chosen = form.cleaned_data.get("episode")
    if chosen:
        for episode in episodes:
            if str(episode.public_id) == chosen:
                return episode
    return episodes[0]


def _values(form: PracticeForm) -> dict[str, Any]:
    d = form.cleaned_data
    values = {name: d.get(name) for name in ("skill", "skill_other", "practiced_at", "how_it_went", "mood")}
    if "craving" in form.fields:
        values["craving"] = d.get("craving")
    return values


@never_cache
@patient_page
def practice(request: HttpRequest) -> HttpResponse:
    """The log (newest first, with the mood / craving chart) and the form for a new entry."""
    patient = _account(request).patient
    now = timezone.now()
    episodes = care.open_episodes(patient)
    form = _practice_form(episodes, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not episodes:
            raise Http404
        if form.is_valid():
            try:
                do_log_practice(
                    patient, acting_user=request_user(request), episode=_episode_of(form, episodes), **_values(form)
                )
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Practice logged. Well done for practising.")
                return redirect("portal:practice")
        status = 422
    elif episodes:
        tz = episodes[0].program.tz()
        form.initial = {"practiced_at": timezone.localtime(now, tz).replace(second=0, microsecond=0, tzinfo=None)}
    entries = list(own_entries(patient)[:PRACTICE_LIST])
    _viewed(request, patient, object_type="practice_log")
    user = request_user(request)
    return _page(
        request,
        "portal/care/practice.html",
        {
            "nav": "practice",
            "form": form if episodes else None,
            "entries": [(e, editable(e, user, now)) for e in entries],
            "chart": chart_for_entries(entries),
        },
        status=status,
    )


@never_cache
@patient_page
def practice_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    patient = _account(request).patient
    user = request_user(request)
    entry = get_own_entry(patient, public_id)
    tz = entry.episode.program.tz()
    initial = {
        "skill": entry.skill,
        "skill_other": entry.skill_other,
        "practiced_at": timezone.localtime(entry.practiced_at, tz).replace(tzinfo=None),
        "how_it_went": entry.how_it_went,
        "mood": entry.mood,
        "craving": entry.craving,
        "episode": str(entry.episode.public_id),
    }
    # An entry stays with the program it was written for: its list, its craving question, no program choice.
    form = _practice_form([entry.episode], request.POST if request.method == "POST" else None, initial=initial)
    can_edit = editable(entry, user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                do_update_practice(entry, acting_user=user, **_values(form))
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Entry updated.")
                return redirect("portal:practice")
        status = 422
    else:
        _viewed(request, patient, obj=entry)
    return _page(
        request,
        "portal/care/practice_edit.html",
        {"nav": "practice", "entry": entry, "form": form, "can_edit": can_edit,
         "edit_hours": int(skills_policy.edit_window().total_seconds() // 3600)},
        status=status,
    )  # fmt: skip


# --- Aftercare -----------------------------------------------------------------------------------------------


@never_cache
@patient_page
def aftercare(request: HttpRequest) -> HttpResponse:
    patient = _account(request).patient
    rows = care.signed_aftercare(patient)
    for _summary, plan in rows:
        _viewed(request, patient, obj=plan)
    if not rows:
        _viewed(request, patient, object_type="portal_aftercare")
    items = []
    for summary, plan in rows:
        tz = summary.episode.program.tz()
        appointment = timezone.localtime(plan.appointment_at, tz) if plan.appointment_at else None
        items.append({"summary": summary, "plan": plan, "appointment_local": appointment})
    return _page(
        request,
        "portal/care/aftercare.html",
        {"nav": "aftercare", "items": items, "crisis_resources": CRISIS_RESOURCES},
    )


@patient_page
def aftercare_pdf(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The patient copy discharge prints (aftercare and safety plan, crisis resources), nothing else."""
    from openiop.discharge import pdf

    patient = _account(request).patient
    summary, plan = care.get_signed_aftercare(patient, public_id)
    data = pdf.render_patient_copy_pdf(pdf.document_context(summary, plan, []))
    audit.record(
        action=AuditAction.EXPORTED,
        acting_user=request_user(request),
        patient=patient,
        obj=plan,
        changed_fields=["pdf"],
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="my-aftercare-plan-{summary.discharge_on:%Y-%m-%d}.pdf"'
    return _private(response)


# --- Disclosures ---------------------------------------------------------------------------------------------------


def _disclosure_window(request: HttpRequest) -> tuple[Any, Any, Any]:
    from openiop.consents.forms import DisclosureWindowForm

    form = DisclosureWindowForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    start, end = disclosures.window_of(data.get("start"), data.get("end"))
    return form, start, end


@patient_page
def disclosure_list(request: HttpRequest) -> HttpResponse:
    """Who received information from my record (45 CFR §164.528, 42 CFR §2.24): every program's, since it is the
    patient's own record. Their own portal pages are access, not disclosures, so they are not listed."""
    patient = _account(request).patient
    form, start, end = _disclosure_window(request)
    rows = list(disclosures.disclosures_of(patient, start=start, end=end))
    _viewed(request, patient, object_type="disclosures")
    context = disclosures.list_context(patient, rows, start, end)
    return _page(request, "portal/care/disclosures.html", {**context, "nav": "disclosures", "window_form": form})


@patient_page
def disclosure_pdf(request: HttpRequest) -> HttpResponse:
    from openiop.consents.pdf import render_disclosures_pdf

    patient = _account(request).patient
    _form, start, end = _disclosure_window(request)
    rows = list(disclosures.disclosures_of(patient, start=start, end=end))
    data = render_disclosures_pdf(disclosures.list_context(patient, rows, start, end))
    audit.record(
        action=AuditAction.EXPORTED, acting_user=request_user(request), patient=patient, object_type="disclosures",
        changed_fields=["pdf"],
    )  # fmt: skip
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="my-disclosures-{start:%Y%m%d}-{end:%Y%m%d}.pdf"'
    return _private(response)
