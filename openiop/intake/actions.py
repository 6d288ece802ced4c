"""Writes to intake assessments: start, save a section, rate a framework, diagnoses, sign, addenda.

Each is one transaction with its audit row (field names only, never the narrative). A signed assessment is locked:
every write but an addendum refuses it. Signing moves the referral to "assessed" through the referrals app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.actions import apply_changes
from openiop.core.models import AuditAction
from openiop.intake.frameworks import framework as get_framework
from openiop.intake.models import (
    RISK_FIELDS,
    RISK_QUESTIONS,
    SECTION_FIELDS,
    SUBSTANCE_KEYS,
    SUBSTANCE_ROUTES,
    Diagnosis,
    DimensionRating,
    IntakeAddendum,
    IntakeAssessment,
    LevelOfCareRating,
    normalize_icd10,
    validate_icd10,
)
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs.models import Program, Track
from openiop.programs.signing import signers_for, signing_refusal
from openiop.worklist import handover

RECOMMENDATION_FIELDS = (
    "recommendation", "recommended_program", "recommended_track", "other_level_of_care", "recommendation_reason",
    "referral_to",
)  # fmt: skip
EDITABLE_FIELDS = ("assessed_on", *SECTION_FIELDS, "substances", *RISK_FIELDS, *RECOMMENDATION_FIELDS)
MAX_SUBSTANCES = 30


def _locked(assessment: IntakeAssessment) -> IntakeAssessment:
    """Re-read under a row lock and refuse a signed assessment (two tabs, or a stale page)."""
    fresh = (
        IntakeAssessment.objects.select_for_update().select_related("program__site", "patient").get(pk=assessment.pk)
    )
    if fresh.is_signed:
        raise ValidationError({"status": "This assessment is signed; add an addendum instead."})
    return fresh


def _audit(
    assessment: IntakeAssessment, acting_user: User | None, action: AuditAction, fields: Iterable[str], obj: Any = None
) -> None:
    audit.record(
        action=action,
        acting_user=acting_user,
        patient=assessment.patient,
        obj=obj if obj is not None else assessment,
        changed_fields=fields,
    )


BEFORE_ASSESSMENT = ("inquiry", "screening", "scheduled")


def awaiting_assessment(patient: Patient, program: Program) -> Any:
    """The patient's latest referral to ``program`` still waiting for its assessment, if any: an assessment started
    from the chart belongs to it, so signing the assessment moves that referral on."""
    from openiop.referrals.models import Referral

    return (
        Referral.objects.filter(patient=patient, program=program, stage__in=BEFORE_ASSESSMENT)
        .order_by("-received_at", "-pk")
        .first()
    )


@transaction.atomic
def do_start_assessment(
    patient: Patient,
    *,
    acting_user: User,
    program: Program,
    episode: EpisodeOfCare | None = None,
    referral: Any = None,
    assessed_on: date | None = None,
) -> IntakeAssessment:
    if program.site.organization_id != patient.organization_id:
        raise ValidationError({"program": "Choose one of the organization's programs."})
    if episode is not None and (episode.patient_id != patient.pk or episode.program_id != program.pk):
        raise ValidationError({"episode": "The episode must be this patient's, in the assessing program."})
    if referral is not None and (
        referral.organization_id != patient.organization_id or referral.patient_id not in (None, patient.pk)
    ):
        raise ValidationError({"referral": "That referral is for someone else."})
    if referral is None:
        referral = awaiting_assessment(patient, program)
    assessment = IntakeAssessment.objects.create(
        patient=patient,
        program=program,
        episode=episode,
        referral=referral,
        assessor=acting_user,
        assessed_on=assessed_on or timezone.localtime(timezone.now(), program.tz()).date(),
    )
    links = [name for name, value in (("episode", episode), ("referral", referral)) if value is not None]
    _audit(assessment, acting_user, AuditAction.CREATED, ["program", "assessor", "assessed_on", *links])
    return assessment


def _clean_substances(rows: Any) -> list[dict[str, Any]]:
    if not isinstance(rows, list) or len(rows) > MAX_SUBSTANCES:
        raise ValidationError({"substances": f"Give at most {MAX_SUBSTANCES} substances as a list."})
    cleaned = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping) or set(row) - set(SUBSTANCE_KEYS):
            raise ValidationError({"substances": f"Row {number}: use only {', '.join(SUBSTANCE_KEYS)}."})
        substance = str(row.get("substance") or "").strip()
        if not substance:
            if any(str(v or "").strip() for v in row.values()):
                raise ValidationError({"substances": f"Row {number}: name the substance."})
            continue
        route = str(row.get("route") or "").strip()
        if route and route not in SUBSTANCE_ROUTES:
            raise ValidationError({"substances": f"Row {number}: route must be one of {', '.join(SUBSTANCE_ROUTES)}."})
        last_use = str(row.get("last_use") or "").strip()
        if last_use:
            try:
                if date.fromisoformat(last_use) > timezone.localdate():
                    raise ValidationError({"substances": f"Row {number}: last use cannot be in the future."})
            except ValueError:
                raise ValidationError({"substances": f"Row {number}: last use must be a date."}) from None
        raw_age = row.get("age_first_use")
        age: int | None = None
        if raw_age not in ("", None):
            try:
                age = int(str(raw_age))
            except (TypeError, ValueError):
                raise ValidationError({"substances": f"Row {number}: age of first use must be a number."}) from None
            if not 0 < age < 120:
                raise ValidationError({"substances": f"Row {number}: check the age of first use."})
        cleaned.append(
            {
                "substance": substance[:100],
                "route": route,
                "frequency": str(row.get("frequency") or "").strip()[:100],
                "last_use": last_use,
                "age_first_use": age,
            }
        )
    return cleaned


def _check_recommendation(assessment: IntakeAssessment) -> None:
    rec = assessment.recommendation
    if rec not in IntakeAssessment.Recommendation.values:
        raise ValidationError({"recommendation": "Choose a recommendation."})
    program: Program | None = assessment.recommended_program
    track: Track | None = assessment.recommended_track
    if program is not None and program.site.organization_id != assessment.patient.organization_id:
        raise ValidationError({"recommended_program": "Choose one of the organization's programs."})
    if track is not None and (program is None or track.program_id != program.pk):
        raise ValidationError({"recommended_track": "Choose a track of the recommended program."})


@transaction.atomic
def do_save_section(assessment: IntakeAssessment, *, acting_user: User, **fields: Any) -> list[str]:
    """Save part of a draft (one section of the page, or several through the API); returns the changed fields."""
    assessment = _locked(assessment)
    if "substances" in fields:
        fields["substances"] = _clean_substances(fields["substances"])
    if fields.get("recommendation") == IntakeAssessment.Recommendation.OTHER_LEVEL:
        fields.setdefault("recommended_program", None)
        fields.setdefault("recommended_track", None)
    changed = apply_changes(assessment, fields, EDITABLE_FIELDS)
    if not changed:
        return []
    if assessment.assessed_on > timezone.localtime(timezone.now(), assessment.program.tz()).date():
        raise ValidationError({"assessed_on": "The assessment date cannot be in the future."})
    _check_recommendation(assessment)
    assessment.full_clean(exclude=["patient", "program", "episode", "referral", "assessor", "signed_by"])
    assessment.save()
    _audit(assessment, acting_user, AuditAction.UPDATED, changed)
    return changed


@transaction.atomic
def do_rate_level_of_care(
    assessment: IntakeAssessment,
    *,
    acting_user: User,
    framework: str,
    ratings: Mapping[str, str],
    notes: Mapping[str, str] | None = None,
    chosen_level: str = "",
    modifiers: Iterable[str] = (),
    rationale: str = "",
) -> LevelOfCareRating:
    """Store one framework's ratings exactly as entered and the level the clinician chose (nothing is derived)."""
    assessment = _locked(assessment)
    try:
        spec = get_framework(framework)
    except ValueError:
        raise ValidationError({"framework": "Unknown level-of-care framework."}) from None
    if spec.adult_only and assessment.program.population != Program.Population.ADULT:
        raise ValidationError({"framework": f"{spec.label} is for adults; use the ASAM Criteria, 3rd edition."})
    notes = notes or {}
    errors: dict[str, str] = {}
    unknown = (set(ratings) | set(notes)) - {d.code for d in spec.dimensions}
    if unknown:
        errors["ratings"] = f"Unknown dimensions: {', '.join(sorted(unknown))}."
    for dim in spec.dimensions:
        value = str(ratings.get(dim.code, "") or "").strip().upper()
        if value and not dim.rated:
            errors[f"rating_{dim.code}"] = f"{dim.label} is not risk-rated; describe it in the note."
        elif value and value not in spec.rating_values:
            errors[f"rating_{dim.code}"] = f"Use one of {', '.join(v for v, _ in spec.ratings)}."
    if chosen_level and chosen_level not in spec.level_values:
        errors["chosen_level"] = "Choose a level from the framework's list."
    modifiers = list(dict.fromkeys(modifiers))
    allowed_modifiers = {m for m, _ in spec.modifiers}
    if set(modifiers) - allowed_modifiers:
        errors["modifiers"] = f"Modifiers allowed: {', '.join(sorted(allowed_modifiers)) or 'none'}."
    if errors:
        raise ValidationError(errors)
    rating, created = LevelOfCareRating.objects.get_or_create(assessment=assessment, framework=spec.code.value)
    level_fields = {"chosen_level": chosen_level, "modifiers": modifiers, "rationale": rationale.strip()}
    changed = apply_changes(rating, level_fields, level_fields)
    rating.save()
    existing = {d.dimension: d for d in rating.dimensions.all()}
    for dim in spec.dimensions:
        value = str(ratings.get(dim.code, "") or "").strip().upper()
        note = str(notes.get(dim.code, "") or "").strip()[:500]
        row = existing.get(dim.code)
        if row is None:
            if value or note:
                DimensionRating.objects.create(rating=rating, dimension=dim.code, value=value, note=note)
                changed.append(f"dimension_{dim.code}")
        elif (row.value, row.note) != (value, note):
            row.value, row.note = value, note
            row.save(update_fields=["value", "note"])
            changed.append(f"dimension_{dim.code}")
    if created or changed:
        action = AuditAction.CREATED if created else AuditAction.UPDATED
        _audit(assessment, acting_user, action, ["framework", *changed], obj=rating)
    return rating


@transaction.atomic
def do_add_diagnosis(
    assessment: IntakeAssessment,
    *,
    acting_user: User,
    code: str,
    description: str,
    is_primary: bool = False,
    status: str = Diagnosis.Status.CONFIRMED,
) -> Diagnosis:
    assessment = _locked(assessment)
    code = normalize_icd10(code)
    errors: dict[str, str] = {}
    try:
        validate_icd10(code)
    except ValidationError as exc:
        errors["code"] = exc.messages[0]
    if not description.strip():
        errors["description"] = "Give the diagnosis in words."
    if status not in Diagnosis.Status.values:
        errors["status"] = "Choose a status."
    if is_primary and status in (Diagnosis.Status.RULED_OUT, Diagnosis.Status.RESOLVED):
        errors["is_primary"] = "A ruled-out or resolved diagnosis cannot be the primary one."
    if not errors and assessment.diagnoses.filter(is_active=True, code=code).exists():
        errors["code"] = "This code is already on the assessment."
    if errors:
        raise ValidationError(errors)
    if is_primary:
        # One primary per assessment: the new one takes over (the constraint backs this up).
        assessment.diagnoses.filter(is_primary=True).update(is_primary=False)
    diagnosis = Diagnosis.objects.create(
        assessment=assessment,
        episode=assessment.episode,
        code=code,
        description=description.strip()[:300],
        is_primary=is_primary,
        status=status,
        recorded_by=acting_user,
    )
    _audit(assessment, acting_user, AuditAction.CREATED, ["code", "description", "status", "is_primary"], obj=diagnosis)
    return diagnosis


@transaction.atomic
def do_remove_diagnosis(diagnosis: Diagnosis, *, acting_user: User) -> None:
    """Take a diagnosis off a draft (entered in error). The row is kept, inactive."""
    if diagnosis.assessment is None:
        raise ValidationError({"diagnosis": "Only diagnoses of an intake assessment are removed here."})
    assessment = _locked(diagnosis.assessment)
    if diagnosis.is_active:
        Diagnosis.objects.filter(pk=diagnosis.pk).update(is_active=False, is_primary=False, updated_at=timezone.now())
        _audit(assessment, acting_user, AuditAction.DEACTIVATED, ["is_active"], obj=diagnosis)


def signing_problems(assessment: IntakeAssessment, signer: User | None = None) -> dict[str, str]:
    """What still stops the assessment from being signed, keyed by the field to fix (empty when ready). With
    ``signer``, also whether that person may sign it at all (scope of practice: the diagnoses and level-of-care
    ratings it carries are clinical judgements)."""
    problems: dict[str, str] = {}
    if signer is not None:
        refusal = signing_refusal(signer, assessment.program, "an assessment")
        if refusal:
            problems["signed_by"] = refusal
    if not assessment.presenting_problem.strip():
        problems["presenting_problem"] = "Describe the presenting problem."
    unanswered = [label for name, label in RISK_QUESTIONS if getattr(assessment, name) is None]
    if unanswered:
        problems["risk_suicidal_ideation"] = f"Answer every risk question ({', '.join(unanswered).lower()})."
    if assessment.risk_flagged and not assessment.risk_narrative.strip():
        problems["risk_narrative"] = "Describe the risk you found and the safety plan."
    diagnoses = [d for d in assessment.diagnoses.all() if d.is_active]
    if not diagnoses:
        problems["code"] = "Add at least one diagnosis."
    elif not any(d.is_primary for d in diagnoses):
        problems["is_primary"] = "Mark one diagnosis as primary."
    ratings = list(assessment.level_ratings.prefetch_related("dimensions"))
    if not any(r.chosen_level for r in ratings):
        problems["chosen_level"] = "Rate the level of care and choose a level in at least one framework."
    for rating in ratings:
        spec = get_framework(rating.framework)
        filled = {d.dimension for d in rating.dimensions.all() if d.value}
        missing = [d.label for d in spec.dimensions if d.rated and d.code not in filled]
        if missing:
            problems[f"rating_{rating.framework}"] = f"{spec.label}: rate {', '.join(missing)}."
    rec = assessment.recommendation
    if not rec:
        problems["recommendation"] = "Choose a recommendation."
    elif rec == IntakeAssessment.Recommendation.ADMIT_IOP and assessment.recommended_program_id is None:
        problems["recommended_program"] = "Choose the program to admit to."
    elif rec == IntakeAssessment.Recommendation.OTHER_LEVEL:
        if not assessment.other_level_of_care.strip():
            problems["other_level_of_care"] = "Name the level of care recommended."
        if not assessment.recommendation_reason.strip():
            problems["recommendation_reason"] = "Say why IOP is not the right level."
    return problems


@transaction.atomic
def do_sign_assessment(assessment: IntakeAssessment, *, acting_user: User) -> IntakeAssessment:
    """Sign and lock; the referral, if any, moves to "assessed"."""
    assessment = _locked(assessment)
    problems = signing_problems(assessment, acting_user)
    if problems:
        raise ValidationError(problems)
    assessment.status = IntakeAssessment.Status.SIGNED
    assessment.signed_at = timezone.now()
    assessment.signed_by = acting_user
    assessment.save(update_fields=["status", "signed_at", "signed_by", "updated_at"])
    _audit(assessment, acting_user, AuditAction.STATUS_CHANGED, ["status", "signed_at", "signed_by"])
    handover.close_handovers(HANDOVER_KIND, assessment.public_id, acting_user=acting_user, note="Assessment signed")
    if assessment.referral_id is not None:
        from openiop.referrals.actions import do_mark_assessed

        referral = assessment.referral
        # A referral already past assessment (waitlisted, admitted) keeps its stage: the intake was late paperwork.
        if referral is not None and referral.stage in BEFORE_ASSESSMENT:
            do_mark_assessed(referral, acting_user=acting_user)
    return assessment


HANDOVER_KIND = "intake"
DOCUMENT = "an assessment"  # the scope-of-practice wording (programs/signing.py)


def assessment_signers(assessment: IntakeAssessment, *, exclude: User | None = None) -> list[User]:
    """Whom the draft may be handed to: the assessing program's active staff who may sign an assessment."""
    return signers_for(assessment.program, DOCUMENT, exclude=exclude)


@transaction.atomic
def do_hand_over_assessment(assessment: IntakeAssessment, *, acting_user: User, to: User | None) -> IntakeAssessment:
    """Hand the draft to a clinician who may sign it: a work task for them (closed when the assessment is signed),
    audited on the assessment as ``handed_over_to``. Anyone who may edit it may hand it over; it stays a draft that
    either of them may go on editing."""
    assessment = _locked(assessment)
    if to is None:
        raise ValidationError({"handed_to": "Choose the clinician who signs it."})
    program = assessment.program
    handover.do_raise_handover(
        acting_user=acting_user,
        kind=HANDOVER_KIND,
        document_id=assessment.public_id,
        label="the intake assessment",
        to=to,
        signers=assessment_signers(assessment),
        program=program,
        patient=assessment.patient,
        episode=assessment.episode,
        today=timezone.localtime(timezone.now(), program.tz()).date(),
    )
    _audit(assessment, acting_user, AuditAction.STATUS_CHANGED, ["handed_over_to"])
    return assessment


@transaction.atomic
def do_add_addendum(assessment: IntakeAssessment, *, acting_user: User, text: str) -> IntakeAddendum:
    if not assessment.is_signed:
        raise ValidationError({"text": "The assessment is still a draft: change it directly."})
    if not text.strip():
        raise ValidationError({"text": "Write the addendum."})
    addendum = IntakeAddendum.objects.create(assessment=assessment, author=acting_user, text=text.strip())
    _audit(assessment, acting_user, AuditAction.CREATED, ["text"], obj=addendum)
    return addendum
