"""Plan pages: the chart tab, a version (read, or the HTMX editor while a draft), signatures, the diff, the PDF,
progress reviews, and the co-signature and due queues.

VIEW_CLINICAL reads, EDIT_CLINICAL writes (403 for front desk and billing, auditors read only); every lookup is
inside the user's programs (404 outside), so a substance-use program's plans stay with that program's staff. Every
page that shows a plan is audited as a record view, the PDF as an export; every write goes through plans.actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.http import request_user
from openiop.accounts.models import User
from openiop.consents.disclosures import CopyRefused, authorize_copy
from openiop.consents.models import DataClass
from openiop.consents.views import copy_form, copy_refused
from openiop.core import audit
from openiop.core.forms import add_action_errors
from openiop.core.htmx import is_htmx
from openiop.core.models import AuditAction
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.intake.models import Diagnosis
from openiop.patients.emergency import grant_of
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.patients.queries import get_patient_for_user
from openiop.plans import actions, content_actions, policy, queries
from openiop.plans.diff import diff_versions
from openiop.plans.forms import (
    GoalForm,
    InterventionForm,
    ObjectiveForm,
    ObjectiveStatusForm,
    PatientDeclinedForm,
    PatientSignForm,
    PlanPolicyForm,
    ProblemForm,
    RequestReviewForm,
    ReviewForm,
    VersionTextForm,
)
from openiop.plans.models import Goal, Intervention, Objective, PlanVersion, Problem, ProgressReview, TreatmentPlan
from openiop.plans.review import gather
from openiop.programs.queries import get_program_for_user
from openiop.programs.signing import may_sign
from openiop.worklist import handover
from openiop.worklist.forms import HandOverForm

KINDS: dict[str, Any] = {"problem": Problem, "goal": Goal, "objective": Objective, "intervention": Intervention}


def _viewed(request: HttpRequest, patient: Patient, obj: Any = None, object_type: str = "") -> None:
    audit.record(
        action=AuditAction.RECORD_VIEWED,
        acting_user=request_user(request),
        patient=patient,
        obj=obj,
        object_type=object_type,
    )


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


# --- The editor tree ----------------------------------------------------------------------------------------------


def _diagnoses(plan: TreatmentPlan) -> Any:
    return Diagnosis.objects.filter(
        Q(episode_id=plan.episode_id) | Q(assessment__patient_id=plan.patient_id), is_active=True
    ).order_by("-is_primary", "code")


def _staff(plan: TreatmentPlan) -> Any:
    return User.objects.filter(is_active=True, memberships__program_id=plan.episode.program_id).order_by(
        "last_name", "first_name"
    )


@dataclass
class Node:
    """One item of the plan with its edit form and the form that adds a child (a bound one after an error)."""

    kind: str
    item: Any
    edit: BaseForm | None = None
    add: BaseForm | None = None
    children: list[Node] = field(default_factory=list)
    open: bool = False  # show the edit form expanded (it has errors)


def _tree(version: PlanVersion, editing: bool, bound: dict[str, BaseForm]) -> list[Node]:
    plan = version.plan
    diagnoses, staff = (_diagnoses(plan), _staff(plan)) if editing else (None, None)

    def forms_for(kind: str, item: Any, initial: dict[str, Any], child: str | None) -> tuple[Any, Any, bool]:
        if not editing:
            return None, None, False
        key = f"{kind}-{item.public_id}"
        edit = bound.get(f"edit-{key}") or _form(kind, None, plan, diagnoses, staff, prefix=key, initial=initial)
        add = None
        if child:
            add_key = f"add-{child}-{item.public_id}"
            add = bound.get(add_key) or _form(child, None, plan, diagnoses, staff, prefix=add_key)
        return edit, add, f"edit-{key}" in bound

    nodes = []
    for problem in version.problems.all():
        edit, add, is_open = forms_for(
            "problem", problem, {"statement": problem.statement, "diagnosis": problem.diagnosis}, "goal"
        )
        pnode = Node("problem", problem, edit, add, open=is_open)
        for goal in problem.goals.all():
            initial: dict[str, Any] = {
                "statement": goal.statement,
                "measure_code": goal.measure_code,
                "measure_comparator": goal.measure_comparator,
                "measure_target": goal.measure_target,
            }
            edit, add, is_open = forms_for("goal", goal, initial, "objective")
            gnode = Node("goal", goal, edit, add, open=is_open)
            for objective in goal.objectives.all():
                initial = {"statement": objective.statement, "target_date": objective.target_date,
                           "status": objective.status}  # fmt: skip
                edit, add, is_open = forms_for("objective", objective, initial, "intervention")
                onode = Node("objective", objective, edit, add, open=is_open)
                for i in objective.interventions.all():
                    initial = {"modality": i.modality, "description": i.description, "frequency": i.frequency,
                               "responsible": i.responsible}  # fmt: skip
                    edit, _, is_open = forms_for("intervention", i, initial, None)
                    onode.children.append(Node("intervention", i, edit, open=is_open))
                gnode.children.append(onode)
            pnode.children.append(gnode)
        nodes.append(pnode)
    return nodes


def _form(kind: str, data: Any, plan: TreatmentPlan, diagnoses: Any, staff: Any, **kwargs: Any) -> BaseForm:
    if kind == "problem":
        return ProblemForm(data, diagnoses=diagnoses if diagnoses is not None else _diagnoses(plan), **kwargs)
    if kind == "goal":
        return GoalForm(data, **kwargs)
    if kind == "objective":
        return ObjectiveForm(data, **kwargs)
    return InterventionForm(data, staff=staff if staff is not None else _staff(plan), **kwargs)


def _action_fields(kind: str, form: BaseForm) -> dict[str, Any]:
    d = dict(form.cleaned_data)
    if kind == "goal":
        d["measure_code"] = d.get("measure_code") or ""
        d["measure_comparator"] = d.get("measure_comparator") or ""
    if kind == "intervention":
        d["description"] = d.get("description") or ""
    return d


def _version_context(
    request: HttpRequest, version: PlanVersion, bound: dict[str, BaseForm] | None = None
) -> dict[str, Any]:
    user = request_user(request)
    bound = bound or {}
    plan = version.plan
    editing = version.status == PlanVersion.Status.DRAFT and user.can(Cap.EDIT_CLINICAL)
    text_form = bound.get("text") or VersionTextForm(
        initial={"strengths": version.strengths, "barriers": version.barriers, "patient_words": version.patient_words}
    )
    add_problem = bound.get("add-problem") or (
        ProblemForm(None, diagnoses=_diagnoses(plan), prefix="add-problem") if editing else None
    )
    previous = plan.versions.filter(number__lt=version.number).order_by("-number").first()
    return {
        "nav": "patients",
        "version": version,
        "plan": plan,
        "patient": plan.patient,
        "editing": editing,
        "tree": _tree(version, editing, bound),
        "text_form": text_form,
        "add_problem": add_problem,
        "problems": actions.signing_problems(version, user) if editing else {},
        **(_handover_context(user, version, bound.get("handover")) if editing else {}),
        "open_handover": handover.current_handover(actions.HANDOVER_KIND, version.public_id)
        if version.status == PlanVersion.Status.DRAFT and not editing
        else None,
        "can_cosign": version.status == PlanVersion.Status.AWAITING_COSIGN and actions.cosigners_ok(version, user),
        "can_return": version.status in (PlanVersion.Status.AWAITING_COSIGN, PlanVersion.Status.AWAITING_PATIENT)
        and user.can(Cap.EDIT_CLINICAL)
        and (user.pk == version.author_id or actions.cosigners_ok(version, user)),
        "previous": previous,
        "today": policy.local_today(plan.episode.program),
        "signature_state": queries.signature_state(version),
        "awaits_patient": actions.awaits_patient(version),
        "decline_form": PatientDeclinedForm(),
    }


def _handover_context(user: User, version: PlanVersion, form: BaseForm | None) -> dict[str, Any]:
    """The sign panel of a draft: the sign button for someone who may sign a plan, else the hand-over to a clinician
    who may (scope of practice); the open hand-over either way."""
    can_sign = may_sign(user, version.plan.episode.program, actions.DOCUMENT)
    signers = [] if can_sign else actions.version_signers(version, exclude=user)
    return {
        "can_sign": can_sign,
        "handover": handover.current_handover(actions.HANDOVER_KIND, version.public_id),
        "handover_signers": signers,
        "handover_form": form or HandOverForm(signers=signers),
        "handover_url": reverse("plans:hand_over", args=[version.public_id]),
    }


def _editor_response(
    request: HttpRequest, version: PlanVersion, bound: dict[str, BaseForm] | None = None, *, ok: bool = True
) -> HttpResponse:
    """HTMX gets the content editor back (with any errors in place); others are sent to the page."""
    if not is_htmx(request) and ok:
        return redirect("plans:version", version.public_id)
    fresh = queries.get_version_for_user(request_user(request), version.public_id, Cap.EDIT_CLINICAL)
    context = _version_context(request, fresh, bound)
    if not is_htmx(request):
        return render(request, "plans/version.html", context, status=422)
    # 200 even with errors: HTMX swaps only successful responses, and the fragment carries the errors.
    return render(request, "plans/partials/editor.html", context)


# --- Pages ---------------------------------------------------------------------------------------------------


@staff_view(Cap.VIEW_CLINICAL)
def version_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    version = queries.get_version_for_user(request_user(request), public_id)
    _viewed(request, version.plan.patient, version)
    context = _version_context(request, version)
    context["copy_form"] = copy_form(request, version.plan.patient)  # who a printed copy is for (plans:pdf asks)
    return render(request, "plans/version.html", context)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def start_plan(request: HttpRequest, public_id: UUID, episode_id: UUID) -> HttpResponse:
    """Start the episode's plan, or its next version (copied from the one in force)."""
    user = request_user(request)
    patient = get_patient_for_user(user, public_id, Cap.EDIT_CLINICAL)
    episode = _episode(user, patient, episode_id)
    try:
        plan, _ = actions.do_ensure_plan(episode, acting_user=user)
        version = actions.do_start_version(plan, acting_user=user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(f"{patient.get_absolute_url()}?tab=plan")
    return redirect("plans:version", version.public_id)


def _episode(user: User, patient: Patient, episode_id: UUID) -> EpisodeOfCare:
    for episode in queries.episodes_for_plans(user, patient):
        if episode.public_id == episode_id:
            return episode
    raise Http404


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def save_text(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    version = queries.get_version_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = VersionTextForm(request.POST)
    if form.is_valid():
        try:
            actions.do_update_version_text(version, acting_user=user, **form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return _editor_response(request, version)
    return _editor_response(request, version, {"text": form}, ok=False)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def add_item(request: HttpRequest, kind: str, public_id: UUID) -> HttpResponse:
    """Add a problem to a version, a goal to a problem, an objective to a goal, an intervention to an objective."""
    user = request_user(request)
    parents = {"problem": None, "goal": "problem", "objective": "goal", "intervention": "objective"}
    if kind not in parents:
        raise Http404
    parent_kind = parents[kind]
    if parent_kind is None:
        version = queries.get_version_for_user(user, public_id, Cap.EDIT_CLINICAL)
        parent: Any = version
        prefix = "add-problem"
    else:
        parent = queries.get_item_for_user(user, KINDS[parent_kind], public_id)
        version = queries.get_version_for_user(user, content_actions.item_version(parent).public_id, Cap.EDIT_CLINICAL)
        prefix = f"add-{kind}-{parent.public_id}"
    form = _form(kind, request.POST, version.plan, None, None, prefix=prefix)
    if form.is_valid():
        add: Any = {
            "problem": content_actions.do_add_problem,
            "goal": content_actions.do_add_goal,
            "objective": content_actions.do_add_objective,
            "intervention": content_actions.do_add_intervention,
        }[kind]
        try:
            add(parent, acting_user=user, **_action_fields(kind, form))
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return _editor_response(request, version)
    return _editor_response(request, version, {prefix: form}, ok=False)


def _item(request: HttpRequest, kind: str, public_id: UUID) -> tuple[Any, PlanVersion]:
    if kind not in KINDS:
        raise Http404
    user = request_user(request)
    item = queries.get_item_for_user(user, KINDS[kind], public_id)
    version = queries.get_version_for_user(user, content_actions.item_version(item).public_id, Cap.EDIT_CLINICAL)
    return item, version


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def edit_item(request: HttpRequest, kind: str, public_id: UUID) -> HttpResponse:
    item, version = _item(request, kind, public_id)
    key = f"{kind}-{item.public_id}"
    form = _form(kind, request.POST, version.plan, None, None, prefix=key)
    if form.is_valid():
        update: Any = {
            "problem": content_actions.do_update_problem,
            "goal": content_actions.do_update_goal,
            "objective": content_actions.do_update_objective,
            "intervention": content_actions.do_update_intervention,
        }[kind]
        try:
            update(item, acting_user=request_user(request), **_action_fields(kind, form))
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return _editor_response(request, version)
    return _editor_response(request, version, {f"edit-{key}": form}, ok=False)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def remove_item(request: HttpRequest, kind: str, public_id: UUID) -> HttpResponse:
    item, version = _item(request, kind, public_id)
    try:
        content_actions.do_remove_item(item, acting_user=request_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _editor_response(request, version)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def move_item(request: HttpRequest, kind: str, public_id: UUID, direction: str) -> HttpResponse:
    item, version = _item(request, kind, public_id)
    try:
        content_actions.do_move_item(item, acting_user=request_user(request), direction=direction)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _editor_response(request, version)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def sign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    version = queries.get_version_for_user(user, public_id, Cap.EDIT_CLINICAL)
    try:
        version = actions.do_sign_version(version, acting_user=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("plans:version", version.public_id)
    if version.status == PlanVersion.Status.AWAITING_COSIGN:
        messages.success(request, "Signed. It now waits for your supervisor's co-signature.")
    elif version.status == PlanVersion.Status.ACTIVE:
        messages.success(request, "Signed. This version is now the plan in force; ask the patient to sign it too.")
    else:
        messages.success(request, "Signed. Ask the patient to sign: it comes into force once they do.")
    return redirect("plans:version", version.public_id)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def hand_over(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Hand a draft to a clinician who may sign it (a work task for them); the page keeps the choice on error."""
    user = request_user(request)
    version = queries.get_version_for_user(user, public_id, Cap.EDIT_CLINICAL)
    if version.status != PlanVersion.Status.DRAFT:
        messages.info(request, "This version is signed already.")
        return redirect("plans:version", version.public_id)
    form = HandOverForm(request.POST, signers=actions.version_signers(version, exclude=user))
    if form.is_valid():
        to = form.cleaned_data["handed_to"]
        try:
            actions.do_hand_over_version(version, acting_user=user, to=to)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, f"Handed over to {to.display_name} for signing.")
            return redirect("plans:version", version.public_id)
    _viewed(request, version.plan.patient, version)
    context = _version_context(request, version, {"handover": form})
    return render(request, "plans/version.html", context, status=422)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def cosign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    version = queries.get_version_for_user(user, public_id, Cap.EDIT_CLINICAL)
    try:
        actions.do_cosign_version(version, acting_user=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Co-signed. The patient signs next.")
    return redirect("plans:version", version.public_id)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def return_to_draft(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    version = queries.get_version_for_user(user, public_id, Cap.EDIT_CLINICAL)
    try:
        actions.do_return_to_draft(version, acting_user=user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Returned to draft.")
    return redirect("plans:version", version.public_id)


@staff_view(Cap.EDIT_CLINICAL)
def patient_sign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    version = queries.get_version_for_user(user, public_id, Cap.EDIT_CLINICAL)
    if not actions.awaits_patient(version):
        messages.info(request, "This version is not waiting for the patient's signature.")
        return redirect("plans:version", version.public_id)
    form = PatientSignForm(_posted(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                actions.do_patient_sign(
                    version,
                    acting_user=user,
                    name=d["patient_signature_name"],
                    method=d["patient_signature_method"],
                    agreed=bool(d["agreed"]),
                    drawing=d.get("patient_signature_drawing") or "",
                )
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Signed by the patient. This version is the plan in force.")
                return redirect("plans:version", version.public_id)
        status = 422
    _viewed(request, version.plan.patient, version)
    context = {**_version_context(request, version), "form": form}
    return render(request, "plans/patient_sign.html", context, status=status)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def patient_declined(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Staff record that the patient declined to sign, with the reason; the plan comes into force."""
    user = request_user(request)
    version = queries.get_version_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = PatientDeclinedForm(request.POST)
    if form.is_valid():
        try:
            actions.do_record_patient_declined(
                version, acting_user=user, reason=form.cleaned_data["patient_declined_reason"]
            )
        except ValidationError as exc:
            # The reason was valid: what is left is the version's state (already signed, not signed yet).
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, "Recorded that the patient declined to sign. This version is the plan in force.")
        return redirect("plans:version", version.public_id)
    _viewed(request, version.plan.patient, version)
    context = {**_version_context(request, version), "decline_form": form}
    return render(request, "plans/version.html", context, status=422)


@staff_view(Cap.VIEW_CLINICAL)
def version_diff(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    new = queries.get_version_for_user(user, public_id)
    against = request.GET.get("against")
    if against:
        try:
            old = queries.get_version_for_user(user, UUID(against))
        except ValueError:
            raise Http404 from None
        if old.plan_id != new.plan_id:
            raise Http404
    else:
        previous = new.plan.versions.filter(number__lt=new.number).order_by("-number").first()
        if previous is None:
            messages.info(request, "This is the first version; there is nothing to compare it with.")
            return redirect("plans:version", new.public_id)
        old = queries.get_version_for_user(user, previous.public_id)
    if old.number > new.number:
        old, new = new, old
    _viewed(request, new.plan.patient, new, "plan_diff")
    context = {"nav": "patients", "patient": new.plan.patient, "plan": new.plan, "diff": diff_versions(old, new),
               "versions": queries.versions_of(new.plan)}  # fmt: skip
    return render(request, "plans/diff.html", context)


@staff_view(Cap.VIEW_CLINICAL)
def version_pdf(request: HttpRequest, public_id: UUID) -> HttpResponse:
    from openiop.plans.pdf import render_plan_pdf

    user = request_user(request)
    version = queries.get_version_for_user(user, public_id)
    patient = version.plan.patient
    try:
        # A copy for someone outside the clinic needs their consent and goes on the accounting of disclosures.
        copy = authorize_copy(
            request.GET, patient, user, data_classes=[DataClass.TREATMENT_PLAN], episode=version.plan.episode
        )
    except CopyRefused as refusal:
        return copy_refused(request, patient, refusal)
    data = render_plan_pdf(version, printed_by=user)
    audit.record(action=AuditAction.EXPORTED, acting_user=user, patient=patient, obj=version)
    copy.record(user, f"Treatment plan, version {version.number}")
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="plan-{version.public_id}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


# --- Reviews -----------------------------------------------------------------------------------------------------


@staff_view(Cap.VIEW_CLINICAL)
def review_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    review = queries.get_review_for_user(user, public_id)
    plan = review.plan
    form = None
    status = 200
    if review.status == ProgressReview.Status.DUE:
        today = policy.local_today(plan.episode.program)
        form = ReviewForm(_posted(request), initial={"held_on": today})
        if request.method == "POST":
            if not user.can(Cap.EDIT_CLINICAL):
                raise PermissionDenied
            if form.is_valid():
                try:
                    review = actions.do_complete_review(review, acting_user=user, **form.cleaned_data)
                except ValidationError as exc:
                    add_action_errors(form, exc)
                else:
                    messages.success(request, "Review recorded.")
                    if review.next_version is not None:
                        return redirect("plans:version", review.next_version.public_id)
                    return redirect("plans:review", review.public_id)
            status = 422
    elif request.method == "POST":
        messages.info(request, "This review is already closed.")
        return redirect("plans:review", review.public_id)
    version = queries.get_version_for_user(user, review.version_reviewed.public_id)
    _viewed(request, plan.patient, review)
    context = {
        "nav": "patients",
        "review": review,
        "plan": plan,
        "patient": plan.patient,
        "version": version,
        "form": form,
        "evidence": gather(review, version, now=timezone.now()),
        "status_choices": ObjectiveStatusForm.base_fields["status"].choices,  # type: ignore[attr-defined]
    }
    return render(request, "plans/review.html", context, status=status)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def objective_status(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    objective = queries.get_item_for_user(user, Objective, public_id)
    form = ObjectiveStatusForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            content_actions.do_set_objective_status(objective, acting_user=user, status=form.cleaned_data["status"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = "Choose a status."
    objective.refresh_from_db()
    if not is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect(
            request.POST.get("next") or reverse("plans:version", args=[objective.goal.problem.version.public_id])
        )
    context = {"objective": objective, "error": error, "saved": not error,
               "status_choices": ObjectiveStatusForm.base_fields["status"].choices}  # type: ignore[attr-defined]  # fmt: skip
    return render(request, "plans/partials/objective_status.html", context)


@require_POST
@staff_view(Cap.EDIT_CLINICAL)
def request_review(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request_user(request)
    plan = queries.get_plan_for_user(user, public_id, Cap.EDIT_CLINICAL)
    form = RequestReviewForm(request.POST)
    if form.is_valid():
        try:
            review, _ = actions.do_request_review(plan, acting_user=user, trigger=form.cleaned_data["trigger"])
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, "Review requested.")
            return redirect("plans:review", review.public_id)
    else:
        messages.error(request, "Choose why the plan needs a review.")
    return redirect(f"{plan.patient.get_absolute_url()}?tab=plan")


# --- Queues ------------------------------------------------------------------------------------------------------


@staff_view(Cap.EDIT_CLINICAL)
def cosign_queue(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    versions = list(queries.cosign_queue(user))
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="planversion")
    return render(request, "plans/cosign_queue.html", {"nav": "patients", "versions": versions})


@staff_view(Cap.VIEW_CLINICAL)
def due_queue(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    rows = queries.due_rows(user)
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="treatmentplan")
    return render(request, "plans/due_queue.html", {"nav": "patients", "rows": rows})


# --- Chart tab ---------------------------------------------------------------------------------------------------


@dataclass
class EpisodePlan:
    episode: EpisodeOfCare
    plan: TreatmentPlan | None
    versions: list[PlanVersion]
    reviews: list[ProgressReview]
    status: queries.PlanStatus | None
    open_version: PlanVersion | None
    active: PlanVersion | None
    # Between the clinician's signature and the patient's: what the tab says about being in force.
    waiting: queries.SignatureState | None = None


def plan_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for the chart's Plan tab (registered in plans/apps.py, VIEW_CLINICAL). An admitted open
    episode without a plan gets one here: admission (the referrals app) does not make it."""
    user = request_user(request)
    rows = []
    for episode in queries.episodes_for_plans(user, patient):
        plan: TreatmentPlan | None = getattr(episode, "treatment_plan", None)
        # Never under emergency access: that is read only, and making the plan is a write.
        if plan is None and episode.is_open and episode.status in actions.OPEN_EPISODE and grant_of(patient) is None:
            plan, _ = actions.do_ensure_plan(episode, acting_user=user)
        if plan is None:
            rows.append(EpisodePlan(episode, None, [], [], None, None, None))
            continue
        versions = queries.versions_of(plan)
        reviews = list(plan.reviews.select_related("reviewer").order_by("-due_on", "-id"))
        due = next((r for r in sorted(reviews, key=lambda r: r.due_on) if r.status == "due"), None)
        today = policy.local_today(episode.program)
        open_version = next((v for v in versions if v.status in queries.OPEN_VERSION), None)
        active = next((v for v in versions if v.status == PlanVersion.Status.ACTIVE), None)
        status = queries.plan_status(plan, today, due) if episode.is_open else None
        signing = next((v for v in (open_version, active) if v is not None and actions.awaits_patient(v)), None)
        if signing is not None:
            signing.plan = plan
        waiting = queries.signature_state(signing) if signing is not None else None
        rows.append(EpisodePlan(episode, plan, versions, reviews, status, open_version, active, waiting))
    return {"episode_plans": rows, "request_review_form": RequestReviewForm()}


# --- The program's plan policy (administration) ----------------------------------------------------------------


@staff_view(Cap.MANAGE_PROGRAMS)
def program_policy(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A program admin sets when a signed plan comes into force, the patient's signature deadline and the review
    interval; linked from the program's administration page."""
    user = request_user(request)
    program = get_program_for_user(user, public_id, Cap.MANAGE_PROGRAMS)
    form = PlanPolicyForm(
        request.POST if request.method == "POST" else None, instance=actions.policy_or_default(program)
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = actions.do_set_plan_policy(
                program, acting_user=user, **{name: form.cleaned_data[name] for name in actions.POLICY_FIELDS}
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, "Treatment plan settings saved." if changed else "Nothing changed.")
            return redirect(program.get_absolute_url())
    # Errors come back on the form with what was typed (200, as the other administration pages).
    return render(request, "plans/program_policy.html", {"nav": "admin", "program": program, "form": form})
