"""Writes to treatment plans: the plan, a draft's text, signatures and activation, progress reviews (a draft's
problems, goals, objectives and interventions are in ``content_actions.py``).

Each is one transaction with its audit row (field names only, never the clinical text). Only a draft's content
changes; once signed by the clinician a version is locked (the supervisor may send it back to draft). Activation
supersedes the previous active version and schedules the next review. Work-queue tasks (plan due, review due,
co-signature needed) are raised and closed here, in the same transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.actions import apply_changes
from openiop.core.models import AuditAction
from openiop.core.roles import Cap, Role
from openiop.patients.models import EpisodeOfCare
from openiop.plans import policy
from openiop.plans.models import (
    Goal,
    Intervention,
    Objective,
    PlanPolicy,
    PlanVersion,
    Problem,
    ProgressReview,
    TreatmentPlan,
)
from openiop.programs.models import Program
from openiop.programs.signing import signers_for, signing_refusal
from openiop.worklist import handover
from openiop.worklist.actions import do_close_task_not_needed, do_raise_task, do_reassign_task
from openiop.worklist.models import WorkTask

V = PlanVersion.Status
OPEN_EPISODE = (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD)
TEXT_FIELDS = ("strengths", "barriers", "patient_words")
MAX_TEXT = 5000
_PNG_PREFIX = "data:image/png;base64,"
MAX_DRAWING_CHARS = 270_000  # a 200 kB PNG as base64, the limit consents uses too

# A new version's reason, from what triggered the review that started it.
REASON_FOR_TRIGGER: dict[str, str] = {
    ProgressReview.Trigger.SCHEDULED: PlanVersion.Reason.REVIEW,
    ProgressReview.Trigger.LEVEL_OF_CARE_CHANGE: PlanVersion.Reason.LEVEL_OF_CARE_CHANGE,
    ProgressReview.Trigger.SAFETY_EVENT: PlanVersion.Reason.SAFETY_EVENT,
    ProgressReview.Trigger.RECERTIFICATION: PlanVersion.Reason.RECERTIFICATION,
    ProgressReview.Trigger.OTHER: PlanVersion.Reason.REVIEW,
}
PLAN_CHANGING_OUTCOMES = (
    ProgressReview.Outcome.MODIFY_PLAN,
    ProgressReview.Outcome.STEP_DOWN,
    ProgressReview.Outcome.STEP_UP,
)


def audit_plan(
    plan: TreatmentPlan, acting_user: User | None, action: AuditAction, fields: Iterable[str], obj: Any
) -> None:
    """The audit row of a plan write, on the plan's patient: field names only, never the clinical text."""
    audit.record(action=action, acting_user=acting_user, patient=plan.patient, obj=obj, changed_fields=list(fields))


def plan_due_key(episode: EpisodeOfCare) -> str:
    # The key admission uses (referrals.admission._raise), so both raise one task.
    return f"{WorkTask.Kind.PLAN_DUE}:{episode.public_id}"


def review_key(review: ProgressReview) -> str:
    return f"{WorkTask.Kind.PLAN_REVIEW_DUE}:{review.public_id}"


def cosign_key_prefix() -> str:
    # Notes raise co-signature tasks too; this prefix marks the plan ones.
    return f"{WorkTask.Kind.COSIGN_NEEDED}:plan:"


def cosign_key(version: PlanVersion) -> str:
    return f"{cosign_key_prefix()}{version.public_id}"


def patient_signature_key(version: PlanVersion) -> str:
    return f"{WorkTask.Kind.PLAN_PATIENT_SIGNATURE}:{version.public_id}"


def raise_patient_signature_task(version: PlanVersion, today: date) -> bool:
    """A version still waiting for the patient's signature (or documented refusal) after its deadline, under the
    patient-signature rule (it is not in force): a task for the primary clinician, once. True when made now."""
    plan = version.plan
    program = plan.episode.program
    due_on = policy.patient_signature_due_on(program, version.clinician_signed_at)
    if version.status != V.AWAITING_PATIENT or due_on is None or today <= due_on:
        return False
    _, created = do_raise_task(
        acting_user=None,
        episode=plan.episode,
        kind=WorkTask.Kind.PLAN_PATIENT_SIGNATURE,
        trigger_key=patient_signature_key(version),
        reason=f"Plan version {version.number} awaiting the patient's signature past its deadline ({due_on:%b} "
        f"{due_on.day}): the patient signs, or record that they declined",
        due_on=due_on,
    )
    return created


def _close_task(key: str, acting_user: User | None, note: str) -> None:
    task = WorkTask.objects.filter(trigger_key=key, status=WorkTask.Status.OPEN).first()
    if task is not None:
        do_close_task_not_needed(task, acting_user=acting_user, note=note)


def locked_version(version: PlanVersion) -> PlanVersion:
    """Re-read the version under a row lock, with what validation and the audit row need."""
    return (
        PlanVersion.objects.select_for_update()
        .select_related("plan__patient", "plan__episode__program__site", "author")
        .get(pk=version.pk)
    )


def locked_draft(version: PlanVersion) -> PlanVersion:
    """Re-read under a row lock and refuse anything but a draft (two tabs, or a stale page)."""
    fresh = locked_version(version)
    if fresh.status != V.DRAFT:
        raise ValidationError({"status": "This version is signed; start a new version to change it."})
    return fresh


# --- The program's plan policy ---------------------------------------------------------------------------------------

POLICY_FIELDS = ("in_force_at", "patient_signature_due_days", "plan_review_interval_days")


def policy_or_default(program: Program) -> PlanPolicy:
    """The program's saved policy, or an unsaved one holding the organization's defaults (read at call time)."""
    saved = PlanPolicy.objects.filter(program=program).first()
    if saved is not None:
        return saved
    return PlanPolicy(
        program=program,
        in_force_at=policy.in_force_at(program),
        patient_signature_due_days=policy.patient_signature_due_days(program),
        plan_review_interval_days=policy.review_interval_days(program),
    )


@transaction.atomic
def do_set_plan_policy(program: Program, *, acting_user: User, **fields: Any) -> list[str]:
    """Save the program's plan policy (made from the defaults on first save); returns the changed fields. Audited as
    a configuration change on the program, field names only. Plans already signed keep their state; the new rule
    applies to the next signature, deadline and review."""
    if not acting_user.can(Cap.MANAGE_PROGRAMS):
        raise PermissionDenied
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"PlanPolicy does not accept {sorted(unknown)}")
    row = PlanPolicy.objects.select_for_update().filter(program=program).first() or policy_or_default(program)
    changed = [name for name, value in fields.items() if getattr(row, name) != value]
    for name, value in fields.items():
        setattr(row, name, value)
    row.full_clean(exclude=["program"])
    if changed or row.pk is None:
        row.save()
        audit.record(
            action=AuditAction.CONFIG_CHANGED,
            acting_user=acting_user,
            obj=program,
            object_type="planpolicy",
            changed_fields=changed,
            organization_id=program.site.organization_id,
        )
    return changed


# --- The plan ----------------------------------------------------------------------------------------------------


@transaction.atomic
def do_ensure_plan(episode: EpisodeOfCare, *, acting_user: User | None) -> tuple[TreatmentPlan, bool]:
    """The episode's plan, made now if it has none: (plan, created). Made lazily from the chart and by the
    ``plan_deadlines`` job, because admission (the referrals app) does not know about plans."""
    existing = TreatmentPlan.objects.filter(episode=episode).first()
    if existing is not None:
        return existing, False
    if episode.admitted_on is None or episode.status not in OPEN_EPISODE:
        raise ValidationError({"episode": "A treatment plan starts once the patient is admitted."})
    plan = TreatmentPlan(episode=episode, patient_id=episode.patient_id, due_on=policy.plan_due_on(episode))
    try:
        with transaction.atomic():
            plan.save(force_insert=True)
    except IntegrityError:
        return TreatmentPlan.objects.get(episode=episode), False
    audit_plan(plan, acting_user, AuditAction.CREATED, ["episode", "due_on"], plan)
    raise_plan_due_task(plan, acting_user)
    return plan, True


def raise_plan_due_task(plan: TreatmentPlan, acting_user: User | None) -> bool:
    """The plan-due task (the key admission uses); True when made now. Never re-raised once it exists."""
    _, created = do_raise_task(
        acting_user=acting_user,
        episode=plan.episode,
        kind=WorkTask.Kind.PLAN_DUE,
        trigger_key=plan_due_key(plan.episode),
        reason=f"Treatment plan due within {policy.plan_due_days()} days of admission",
        due_on=plan.due_on,
    )
    return created


def raise_cosign_task(version: PlanVersion, acting_user: User | None) -> bool:
    """The co-signature task, given to the author's supervisor when they can take it; True when made now."""
    plan = version.plan
    task, created = do_raise_task(
        acting_user=acting_user,
        episode=plan.episode,
        kind=WorkTask.Kind.COSIGN_NEEDED,
        trigger_key=cosign_key(version),
        reason=f"Treatment plan version {version.number} needs a co-signature",
        due_on=policy.local_today(plan.episode.program),
    )
    supervisor = version.author.supervisor
    if created and supervisor is not None and task.assigned_to_id != supervisor.pk:
        # A supervisor outside the program cannot take it: the task stays with the program's queue.
        with contextlib.suppress(ValidationError):
            do_reassign_task(task, acting_user=acting_user, assigned_to=supervisor)  # type: ignore[arg-type]
    return created


def raise_review_task(review: ProgressReview, acting_user: User | None) -> bool:
    label = ProgressReview.Trigger(review.trigger).label.lower()
    scheduled = review.trigger == ProgressReview.Trigger.SCHEDULED
    _, created = do_raise_task(
        acting_user=acting_user,
        episode=review.plan.episode,
        kind=WorkTask.Kind.PLAN_REVIEW_DUE,
        trigger_key=review_key(review),
        reason="Progress review due" if scheduled else f"Progress review: {label}",
        due_on=review.due_on,
    )
    return created


def _copy_content(source: PlanVersion, target: PlanVersion) -> None:
    """New rows with the same lineage, in order: problems, goals, objectives, interventions."""
    problems = list(source.problems.prefetch_related("goals__objectives__interventions"))
    for problem in problems:
        new_problem = Problem.objects.create(
            version=target,
            order=problem.order,
            statement=problem.statement,
            diagnosis_id=problem.diagnosis_id,
            lineage=problem.lineage,
        )
        for goal in problem.goals.all():
            new_goal = Goal.objects.create(
                problem=new_problem,
                order=goal.order,
                statement=goal.statement,
                measure_code=goal.measure_code,
                measure_comparator=goal.measure_comparator,
                measure_target=goal.measure_target,
                lineage=goal.lineage,
            )
            for objective in goal.objectives.all():
                new_objective = Objective.objects.create(
                    goal=new_goal,
                    order=objective.order,
                    statement=objective.statement,
                    target_date=objective.target_date,
                    status=objective.status,
                    lineage=objective.lineage,
                )
                Intervention.objects.bulk_create(
                    Intervention(
                        objective=new_objective,
                        order=i.order,
                        modality=i.modality,
                        description=i.description,
                        frequency=i.frequency,
                        responsible_id=i.responsible_id,
                        lineage=i.lineage,
                    )
                    for i in objective.interventions.all()
                )


@transaction.atomic
def do_start_version(
    plan: TreatmentPlan,
    *,
    acting_user: User,
    reason: str = "",
    review: ProgressReview | None = None,
) -> PlanVersion:
    """A new draft: the first one (empty, reason "initial") or a copy of the version in force."""
    plan = TreatmentPlan.objects.select_for_update().select_related("patient", "episode").get(pk=plan.pk)
    if plan.episode.status not in OPEN_EPISODE:
        raise ValidationError({"plan": "The episode is closed; its plan cannot change."})
    open_version = plan.versions.filter(status__in=[V.DRAFT, V.AWAITING_COSIGN, V.AWAITING_PATIENT]).first()
    if open_version is not None:
        raise ValidationError({"plan": f"Version {open_version.number} is still in progress; finish it first."})
    current = plan.versions.filter(status=V.ACTIVE).first()
    if not reason:
        reason = PlanVersion.Reason.INITIAL if current is None else PlanVersion.Reason.OTHER
    if reason not in PlanVersion.Reason.values:
        raise ValidationError({"reason": "Choose why the plan changes."})
    if current is None and reason != PlanVersion.Reason.INITIAL and not plan.versions.exists():
        reason = PlanVersion.Reason.INITIAL
    number = (plan.versions.aggregate(n=models.Max("number"))["n"] or 0) + 1
    version = PlanVersion.objects.create(
        plan=plan,
        number=number,
        reason=reason,
        review=review,
        author=acting_user,
        strengths=current.strengths if current else "",
        barriers=current.barriers if current else "",
        patient_words=current.patient_words if current else "",
    )
    if current is not None:
        _copy_content(current, version)
    fields = ["number", "reason", "author", *(["review"] if review else []), *(["copied_from"] if current else [])]
    audit_plan(plan, acting_user, AuditAction.CREATED, fields, version)
    return version


@transaction.atomic
def do_update_version_text(version: PlanVersion, *, acting_user: User, **fields: Any) -> list[str]:
    version = locked_draft(version)
    cleaned = {name: str(value or "").strip() for name, value in fields.items()}
    too_long = [name for name, value in cleaned.items() if len(value) > MAX_TEXT]
    if too_long:
        raise ValidationError(dict.fromkeys(too_long, f"Keep this under {MAX_TEXT} characters."))
    changed = apply_changes(version, cleaned, TEXT_FIELDS)
    if changed:
        version.save(update_fields=[*changed, "updated_at"])
        audit_plan(version.plan, acting_user, AuditAction.UPDATED, changed, version)
    return changed


# --- Signatures and activation -----------------------------------------------------------------------------------


def signing_problems(version: PlanVersion, signer: User | None = None) -> dict[str, str]:
    """What still stops the clinician from signing, keyed by the field to fix (empty when ready). With ``signer``,
    also whether that person may sign a plan in this program (scope of practice)."""
    problems: dict[str, str] = {}
    if signer is not None:
        refusal = signing_refusal(signer, version.plan.episode.program, DOCUMENT)
        if refusal:
            problems["author"] = refusal
    rows = list(version.problems.prefetch_related("goals__objectives__interventions"))
    if not rows:
        return {**problems, "problems": "Add at least one problem."}
    for p_number, problem in enumerate(rows, start=1):
        goals = list(problem.goals.all())
        if not goals:
            problems.setdefault("goals", f"Problem {p_number} needs a goal.")
        for goal in goals:
            objectives = list(goal.objectives.all())
            if not objectives:
                problems.setdefault("objectives", f"Every goal of problem {p_number} needs a measurable objective.")
            for objective in objectives:
                if objective.target_date is None:
                    problems.setdefault("target_date", f"Give every objective of problem {p_number} a target date.")
                if not list(objective.interventions.all()):
                    problems.setdefault(
                        "interventions", f"Every objective of problem {p_number} needs an intervention."
                    )
    if not version.strengths.strip():
        problems["strengths"] = "Record the patient's strengths."
    return problems


def needs_cosignature(user: User) -> bool:
    return user.needs_cosignature or user.supervisor_id is not None


def cosigners_ok(version: PlanVersion, user: User) -> bool:
    """The author's supervisor co-signs; an author without one is co-signed by a director of the program."""
    author = version.author
    if user.pk == author.pk or not user.is_active:
        return False
    if author.supervisor_id is not None:
        return user.pk == author.supervisor_id
    return user.role == Role.DIRECTOR and user.memberships.filter(program_id=version.plan.episode.program_id).exists()


@transaction.atomic
def do_sign_version(version: PlanVersion, *, acting_user: User) -> PlanVersion:
    """The clinician signs; the signer becomes the author. Then it waits for a co-signature or for the patient."""
    version = locked_draft(version)
    problems = signing_problems(version, acting_user)
    if problems:
        raise ValidationError(problems)
    version.author = acting_user
    version.clinician_signed_at = timezone.now()
    version.status = V.AWAITING_COSIGN if needs_cosignature(acting_user) else V.AWAITING_PATIENT
    version.save(update_fields=["author", "clinician_signed_at", "status", "updated_at"])
    audit_plan(
        version.plan, acting_user, AuditAction.STATUS_CHANGED, ["status", "author", "clinician_signed_at"], version
    )
    handover.close_handovers(HANDOVER_KIND, version.public_id, acting_user=acting_user, note="Treatment plan signed")
    if version.status == V.AWAITING_COSIGN:
        raise_cosign_task(version, acting_user)
    else:
        _activate_if_clinician_rule(version, acting_user)
    return version


HANDOVER_KIND = "plan"
DOCUMENT = "a treatment plan"  # the scope-of-practice wording (programs/signing.py)


def version_signers(version: PlanVersion, *, exclude: User | None = None) -> list[User]:
    """Whom a draft may be handed to: the episode's program's active staff who may sign a treatment plan."""
    return signers_for(version.plan.episode.program, DOCUMENT, exclude=exclude)


@transaction.atomic
def do_hand_over_version(version: PlanVersion, *, acting_user: User, to: User | None) -> PlanVersion:
    """Hand a draft to a clinician who may sign it: a work task for them, closed when they sign (the signer becomes
    the author), audited on the version as ``handed_over_to``."""
    version = locked_draft(version)
    if to is None:
        raise ValidationError({"handed_to": "Choose the clinician who signs it."})
    episode = version.plan.episode
    handover.do_raise_handover(
        acting_user=acting_user,
        kind=HANDOVER_KIND,
        document_id=version.public_id,
        label=f"treatment plan version {version.number}",
        to=to,
        signers=version_signers(version),
        program=episode.program,
        patient=version.plan.patient,
        episode=episode,
        today=policy.local_today(episode.program),
    )
    audit_plan(version.plan, acting_user, AuditAction.STATUS_CHANGED, ["handed_over_to"], version)
    return version


def _activate_if_clinician_rule(version: PlanVersion, acting_user: User) -> None:
    """A program whose plans come into force at the clinician's signature activates the version now; the patient
    still signs (or declines) afterwards (docs/clinical-rules.md#treatment-plans-and-reviews)."""
    program = version.plan.episode.program
    if policy.in_force_at(program) == PlanPolicy.InForceAt.CLINICIAN_SIGNATURE:
        _activate(version, acting_user)


@transaction.atomic
def do_cosign_version(version: PlanVersion, *, acting_user: User) -> PlanVersion:
    version = locked_version(version)
    if version.status != V.AWAITING_COSIGN:
        raise ValidationError({"status": "This version is not waiting for a co-signature."})
    if not cosigners_ok(version, acting_user):
        raise ValidationError({"cosigned_by": "Only the author's supervisor (or, without one, a director) co-signs."})
    version.cosigned_by = acting_user
    version.cosigned_at = timezone.now()
    version.status = V.AWAITING_PATIENT
    version.save(update_fields=["cosigned_by", "cosigned_at", "status", "updated_at"])
    audit_plan(version.plan, acting_user, AuditAction.STATUS_CHANGED, ["status", "cosigned_by", "cosigned_at"], version)
    _close_task(cosign_key(version), acting_user, "Co-signed")
    _activate_if_clinician_rule(version, acting_user)
    return version


@transaction.atomic
def do_return_to_draft(version: PlanVersion, *, acting_user: User) -> PlanVersion:
    """The supervisor sends a version back to its author (or the author takes it back before the patient signs)."""
    version = locked_version(version)
    if version.status not in (V.AWAITING_COSIGN, V.AWAITING_PATIENT):
        raise ValidationError({"status": "Only a version waiting for a signature goes back to draft."})
    if acting_user.pk != version.author_id and not cosigners_ok(version, acting_user):
        raise ValidationError({"status": "Only the author or the co-signer may send it back."})
    version.status = V.DRAFT
    version.clinician_signed_at = None
    version.cosigned_by = None
    version.cosigned_at = None
    version.save(update_fields=["status", "clinician_signed_at", "cosigned_by", "cosigned_at", "updated_at"])
    audit_plan(version.plan, acting_user, AuditAction.STATUS_CHANGED, ["status", "clinician_signed_at"], version)
    _close_task(cosign_key(version), acting_user, "Returned to draft")
    _close_task(patient_signature_key(version), acting_user, "Returned to draft")
    return version


def _check_drawing(data_url: str) -> str:
    import base64
    import binascii

    if not data_url.startswith(_PNG_PREFIX) or len(data_url) > MAX_DRAWING_CHARS:
        raise ValidationError({"patient_signature_drawing": "Draw the signature on the pad."})
    try:
        raw = base64.b64decode(data_url[len(_PNG_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"patient_signature_drawing": "The drawn signature could not be read."}) from None
    if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValidationError({"patient_signature_drawing": "The drawn signature must be a PNG image."})
    return data_url


@transaction.atomic
def do_patient_sign(
    version: PlanVersion,
    *,
    acting_user: User,
    name: str,
    method: str,
    agreed: bool,
    drawing: str = "",
    self_signed: bool = False,
) -> PlanVersion:
    """The patient signs, and the version becomes the one in force.

    In person, staff hold the device and are ``acting_user``. With ``self_signed`` the patient signs on their own
    in the portal: ``acting_user`` is their portal login (the caller checked it is this patient's), the signature is
    a typed name, and what follows the signature (the superseded version, the closed plan-due task, the next
    review) is done by the system rather than in the patient's name, so the work queue never shows a task closed
    by a patient.
    """
    version = locked_version(version)
    if not awaits_patient(version):
        raise ValidationError({"status": "This version is not waiting for the patient's signature."})
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["patient_signature_name"] = "Type your full name." if self_signed else "Type the patient's full name."
    elif len(name) > 150:
        errors["patient_signature_name"] = "Keep the name under 150 characters."
    if method not in PlanVersion.SignatureMethod.values or (
        self_signed and method != PlanVersion.SignatureMethod.TYPED
    ):
        errors["patient_signature_method"] = "Choose how the patient signs."
    if not agreed:
        errors["agreed"] = (
            "Confirm that you took part in the plan and agree with it."
            if self_signed
            else "The patient confirms they took part in the plan and agree with it."
        )
    if errors:
        raise ValidationError(errors)
    version.patient_signature_drawing = _check_drawing(drawing) if method == PlanVersion.SignatureMethod.DRAWN else ""
    version.patient_signature_name = name
    version.patient_signature_method = method
    version.patient_signed_at = timezone.now()
    version.save(
        update_fields=[
            "patient_signature_name",
            "patient_signature_method",
            "patient_signature_drawing",
            "patient_signed_at",
            "updated_at",
        ]
    )
    # The signature's audit row names who signed, with the request's address and browser (core.audit).
    fields = ["patient_signed_at", "patient_signature_name", "patient_signature_method"]
    audit_plan(version.plan, acting_user, AuditAction.UPDATED, fields, version)
    system = None if self_signed else acting_user
    _close_task(patient_signature_key(version), system, "The patient signed")
    if version.status == V.AWAITING_PATIENT:  # already in force under the clinician-signature rule otherwise
        _activate(version, system)
    return version


def awaits_patient(version: PlanVersion) -> bool:
    """Waiting for the patient to sign or decline: before activation under the patient-signature rule, or in force
    already under the clinician-signature rule."""
    if version.patient_signed_at is not None or version.patient_declined_at is not None:
        return False
    return version.status == V.AWAITING_PATIENT or (
        version.status == V.ACTIVE and version.clinician_signed_at is not None
    )


@transaction.atomic
def do_record_patient_declined(version: PlanVersion, *, acting_user: User, reason: str) -> PlanVersion:
    """Staff record that the patient declined to sign, with the reason. A plan the clinician signed must not wait
    forever for a signature the patient refuses: it comes into force, and the refusal is on the record (audited).
    """
    version = locked_version(version)
    if not awaits_patient(version):
        raise ValidationError({"status": "This version is not waiting for the patient's signature."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"patient_declined_reason": "Say why the patient declined to sign."})
    if len(reason) > MAX_TEXT:
        raise ValidationError({"patient_declined_reason": f"Keep this under {MAX_TEXT} characters."})
    version.patient_declined_at = timezone.now()
    version.patient_declined_reason = reason
    version.save(update_fields=["patient_declined_at", "patient_declined_reason", "updated_at"])
    audit_plan(
        version.plan, acting_user, AuditAction.UPDATED, ["patient_declined_at", "patient_declined_reason"], version
    )
    _close_task(patient_signature_key(version), acting_user, "The patient declined to sign (recorded)")
    if version.status == V.AWAITING_PATIENT:
        _activate(version, acting_user)
    return version


def _activate(version: PlanVersion, acting_user: User | None) -> None:
    plan = (
        TreatmentPlan.objects.select_for_update()
        .select_related("episode__program__site", "patient")
        .get(pk=version.plan_id)
    )
    now = timezone.now()
    previous = plan.versions.filter(status=V.ACTIVE).first()
    if previous is not None:
        previous.status = V.SUPERSEDED
        previous.superseded_at = now
        previous.save(update_fields=["status", "superseded_at", "updated_at"])
        audit_plan(plan, acting_user, AuditAction.STATUS_CHANGED, ["status", "superseded_at"], previous)
    version.status = V.ACTIVE
    version.activated_at = now
    version.save(update_fields=["status", "activated_at", "updated_at"])
    audit_plan(plan, acting_user, AuditAction.STATUS_CHANGED, ["status", "activated_at"], version)
    program = plan.episode.program
    today = policy.local_today(program, now)
    plan.current_version = version
    plan.next_review_on = policy.review_due_on(program, today)
    plan.save(update_fields=["current_version", "next_review_on", "updated_at"])
    audit_plan(plan, acting_user, AuditAction.UPDATED, ["current_version", "next_review_on"], plan)
    _close_task(plan_due_key(plan.episode), acting_user, "Treatment plan signed")
    # The clock restarts: an outstanding scheduled review belongs to the version just replaced.
    for review in plan.reviews.filter(status=ProgressReview.Status.DUE, trigger=ProgressReview.Trigger.SCHEDULED):
        _cancel_review(review, acting_user, "A new version of the plan is in force")
    _open_review(plan, acting_user, trigger=ProgressReview.Trigger.SCHEDULED, due_on=plan.next_review_on)


# --- Progress reviews -------------------------------------------------------------------------------------------


def _open_review(
    plan: TreatmentPlan, acting_user: User | None, *, trigger: str, due_on: date, trigger_key: str = ""
) -> ProgressReview:
    assert plan.current_version is not None  # callers check: only a plan in force is reviewed
    review = ProgressReview.objects.create(
        plan=plan,
        version_reviewed=plan.current_version,
        trigger=trigger,
        trigger_key=trigger_key,
        due_on=due_on,
    )
    audit_plan(plan, acting_user, AuditAction.CREATED, ["trigger", "due_on", "version_reviewed"], review)
    raise_review_task(review, acting_user)
    return review


def _cancel_review(review: ProgressReview, acting_user: User | None, note: str) -> None:
    review.status = ProgressReview.Status.CANCELLED
    review.save(update_fields=["status", "updated_at"])
    audit_plan(review.plan, acting_user, AuditAction.STATUS_CHANGED, ["status"], review)
    _close_task(review_key(review), acting_user, note)


@transaction.atomic
def do_request_review(
    plan: TreatmentPlan,
    *,
    acting_user: User | None,
    trigger: str,
    trigger_key: str = "",
    due_on: date | None = None,
) -> tuple[ProgressReview, bool]:
    """An unscheduled review (level-of-care change, safety event, recertification, other): (review, created).

    ``trigger_key`` names the event (``safety_alert:<id>``) so the same event raises one review however often it is
    seen. A plan with no version in force yet gets none: the first plan, still being written, covers it."""
    plan = TreatmentPlan.objects.select_for_update().select_related("episode__program__site", "patient").get(pk=plan.pk)
    if trigger not in ProgressReview.Trigger.values or trigger == ProgressReview.Trigger.SCHEDULED:
        raise ValidationError({"trigger": "Choose what calls for the review."})
    if trigger_key:
        existing = plan.reviews.filter(trigger_key=trigger_key).first()
        if existing is not None:
            return existing, False
    if plan.current_version_id is None:
        raise ValidationError({"trigger": "The plan has no version in force yet; review it once it is signed."})
    if plan.episode.status not in OPEN_EPISODE:
        raise ValidationError({"trigger": "The episode is closed."})
    program = plan.episode.program
    due = due_on or policy.event_review_due_on(program, policy.local_today(program))
    return _open_review(plan, acting_user, trigger=trigger, due_on=due, trigger_key=trigger_key), True


@transaction.atomic
def do_complete_review(
    review: ProgressReview,
    *,
    acting_user: User,
    outcome: str,
    summary: str,
    held_on: date | None = None,
) -> ProgressReview:
    """Record the outcome. A plan-changing outcome starts the next version (a draft copied from the one in force);
    "continue" restarts the review clock from the day it was held."""
    review = ProgressReview.objects.select_for_update().select_related("plan").get(pk=review.pk)
    plan = (
        TreatmentPlan.objects.select_for_update()
        .select_related("episode__program__site", "patient")
        .get(pk=review.plan_id)
    )
    program = plan.episode.program
    today = policy.local_today(program)
    held_on = held_on or today
    errors: dict[str, str] = {}
    if review.status != ProgressReview.Status.DUE:
        raise ValidationError({"status": "This review is already closed."})
    if outcome not in ProgressReview.Outcome.values:
        errors["outcome"] = "Choose the outcome."
    summary = (summary or "").strip()
    if not summary:
        errors["summary"] = "Summarize the review: progress, what changes and why."
    elif len(summary) > MAX_TEXT:
        errors["summary"] = f"Keep the summary under {MAX_TEXT} characters."
    if held_on > today:
        errors["held_on"] = "The review cannot be held in the future."
    elif plan.episode.admitted_on and held_on < plan.episode.admitted_on:
        errors["held_on"] = "The review cannot be before admission."
    if errors:
        raise ValidationError(errors)
    review.status = ProgressReview.Status.COMPLETED
    review.outcome = outcome
    review.summary = summary
    review.held_on = held_on
    review.reviewer = acting_user
    fields = ["status", "outcome", "summary", "held_on", "reviewer"]
    if outcome in PLAN_CHANGING_OUTCOMES and plan.episode.status in OPEN_EPISODE:
        in_progress = plan.versions.filter(status__in=[V.DRAFT, V.AWAITING_COSIGN, V.AWAITING_PATIENT]).first()
        review.save(update_fields=[*fields, "updated_at"])
        if in_progress is None:
            in_progress = do_start_version(
                plan, acting_user=acting_user, reason=REASON_FOR_TRIGGER[review.trigger], review=review
            )
        review.next_version = in_progress
        fields.append("next_version")
    review.save(update_fields=[*fields, "updated_at"])
    audit_plan(plan, acting_user, AuditAction.STATUS_CHANGED, fields, review)
    _close_task(review_key(review), acting_user, "Review held")
    if outcome == ProgressReview.Outcome.CONTINUE and plan.current_version_id is not None:
        for other in plan.reviews.filter(status=ProgressReview.Status.DUE, trigger=ProgressReview.Trigger.SCHEDULED):
            _cancel_review(other, acting_user, "A review was held; the next one is scheduled from it")
        plan.next_review_on = policy.review_due_on(program, held_on)
        plan.save(update_fields=["next_review_on", "updated_at"])
        audit_plan(plan, acting_user, AuditAction.UPDATED, ["next_review_on"], plan)
        _open_review(plan, acting_user, trigger=ProgressReview.Trigger.SCHEDULED, due_on=plan.next_review_on)
    return review


@transaction.atomic
def do_close_for_discharge(plan: TreatmentPlan, *, acting_user: User | None) -> int:
    """The episode ended: reviews still due are cancelled and their tasks closed. Returns how many."""
    count = 0
    for review in plan.reviews.select_for_update().filter(status=ProgressReview.Status.DUE):
        _cancel_review(review, acting_user, "The episode was discharged")
        count += 1
    _close_task(plan_due_key(plan.episode), acting_user, "The episode was discharged")
    return count
