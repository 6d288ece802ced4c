"""Writes to authorizations and utilization reviews, each atomic with its audit row (field names only).

A review's decision changes the authorization in the same transaction, audited on both rows:

- approved / extended / partially approved: the authorization is approved (from requested, or from denied after an
  appeal), its units grow by ``units_granted`` (on the initial review of a requested authorization they become it:
  the payer approved that many in all), its end date becomes ``new_end_date`` when given, and the payer's date for
  the next concurrent review (``next_review_on``) replaces the old one (empty: the program's default);
- denied: a requested authorization is denied; an approved one keeps what was approved (the denial is of more);
- stepped down: recorded with the level; the lower level needs its own authorization, so this one is unchanged;
- pending: nothing changes until the payer answers (``do_decide_review``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.actions import apply_changes
from openiop.core.models import AuditAction
from openiop.patients.models import Coverage, EpisodeOfCare
from openiop.programs import levels
from openiop.programs.models import Program
from openiop.utilization.models import Authorization, UtilizationPolicy, UtilizationReview
from openiop.utilization.policy import POLICY_FIELDS, default_policy

AUTHORIZATION_FIELDS = (
    "coverage", "number", "level_of_care", "start_date", "end_date", "unit_kind", "units_authorized", "status",
    "review_due_on", "review_at_units_left", "notes",
)  # fmt: skip
REVIEW_FIELDS = (
    "kind", "requested_on", "decided_on", "outcome", "units_granted", "new_end_date", "level_of_care", "reviewer",
    "reference", "notes",
)  # fmt: skip
Outcome = UtilizationReview.Outcome
GRANTING = (Outcome.APPROVED, Outcome.EXTENDED, Outcome.PARTIAL)
MAX_UNITS = 1000


END_BEFORE_START = "The authorization must end on or after its start date."


def _check_dates(auth: Authorization, fields: dict[str, Any]) -> None:
    """Before the fields are applied: the generic check of the table's constraint would not say what is wrong."""
    start, end = fields.get("start_date", auth.start_date), fields.get("end_date", auth.end_date)
    if start is not None and end is not None and end < start:
        raise ValidationError({"end_date": END_BEFORE_START})


def _check_authorization(auth: Authorization, episode: EpisodeOfCare) -> None:
    errors: dict[str, str] = {}
    auth.number = (auth.number or "").strip()
    auth.notes = (auth.notes or "").strip()
    coverage = auth.coverage if auth.coverage_id else None
    if coverage is None or coverage.patient_id != episode.patient_id:
        errors["coverage"] = "Choose one of this patient's coverages."
    if levels.get(auth.level_of_care or "") is None:
        errors["level_of_care"] = "Choose a level of care from the catalog."
    if auth.start_date is None:
        errors["start_date"] = "Enter the first covered day."
    if auth.end_date is None:
        errors["end_date"] = "Enter the last covered day."
    elif auth.start_date is not None and auth.end_date < auth.start_date:
        errors["end_date"] = END_BEFORE_START
    if auth.unit_kind not in Authorization.UnitKind.values:
        errors["unit_kind"] = "Choose days or sessions."
    if auth.units_authorized is None or not 0 <= auth.units_authorized <= MAX_UNITS:
        errors["units_authorized"] = f"Enter a number of units from 0 to {MAX_UNITS}."
    elif auth.status == Authorization.Status.APPROVED and auth.units_authorized == 0:
        errors["units_authorized"] = "An approved authorization covers at least one unit."
    if auth.status not in Authorization.Status.values:
        errors["status"] = f"Use one of {', '.join(Authorization.Status.values)}."
    if auth.review_at_units_left is not None and not 0 <= auth.review_at_units_left <= 100:
        errors["review_at_units_left"] = "Enter a number of units from 0 to 100."
    if len(auth.notes) > 2000:
        errors["notes"] = "Keep the notes under 2,000 characters."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_create_authorization(*, acting_user: User | None, episode: EpisodeOfCare, **fields: Any) -> Authorization:
    """A new authorization for ``episode`` (requested or already approved), audited CREATED."""
    # The coverage first: reading an unset foreign key of a new row raises rather than answering None.
    auth = Authorization(episode=episode, coverage=fields.get("coverage"))
    _check_dates(auth, fields)
    apply_changes(auth, fields, AUTHORIZATION_FIELDS)
    _check_authorization(auth, episode)
    auth.save()
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=auth,
        changed_fields=[n for n, v in fields.items() if v not in ("", None)],
    )
    return auth


@transaction.atomic
def do_update_authorization(auth: Authorization, *, acting_user: User | None, **fields: Any) -> list[str]:
    """Change what the payer or the billing office corrected; the changed field names, audited UPDATED."""
    auth = Authorization.objects.select_for_update().select_related("episode__patient", "coverage").get(pk=auth.pk)
    _check_dates(auth, fields)
    changed = apply_changes(auth, fields, AUTHORIZATION_FIELDS)
    if changed:
        _check_authorization(auth, auth.episode)
        auth.save()
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            patient=auth.episode.patient,
            obj=auth,
            changed_fields=changed,
        )
    return changed


def _check_review(review: UtilizationReview, auth: Authorization) -> None:
    errors: dict[str, str] = {}
    for name in ("reviewer", "reference", "notes", "level_of_care"):
        setattr(review, name, (getattr(review, name) or "").strip())
    if review.kind not in UtilizationReview.Kind.values:
        errors["kind"] = f"Use one of {', '.join(UtilizationReview.Kind.values)}."
    if review.outcome not in Outcome.values:
        errors["outcome"] = f"Use one of {', '.join(Outcome.values)}."
    if review.requested_on is None:
        errors["requested_on"] = "Enter the day the review was asked for."
    if review.outcome == Outcome.PENDING:
        if review.decided_on is not None:
            errors["decided_on"] = "A pending review has no decision date yet."
    elif review.decided_on is None:
        errors["decided_on"] = "Enter the day the payer decided."
    elif review.requested_on is not None and review.decided_on < review.requested_on:
        errors["decided_on"] = "The decision cannot come before the request."
    granting = review.outcome in GRANTING
    if review.units_granted is not None and not granting:
        errors["units_granted"] = "Units are granted only by an approval or an extension."
    elif review.units_granted is not None and not 0 <= review.units_granted <= MAX_UNITS:
        errors["units_granted"] = f"Enter a number of units from 0 to {MAX_UNITS}."
    if review.new_end_date is not None:
        if not granting:
            errors["new_end_date"] = "A new end date comes only with an approval or an extension."
        elif review.new_end_date < auth.start_date:
            errors["new_end_date"] = "The new end date must be on or after the authorization's start date."
    if (
        review.outcome in (Outcome.EXTENDED, Outcome.PARTIAL)
        and review.units_granted is None
        and not review.new_end_date
    ):
        errors["units_granted"] = "Enter the units added, a new end date, or both."
    if review.outcome == Outcome.STEPPED_DOWN:
        if levels.get(review.level_of_care) is None:
            errors["level_of_care"] = "Choose the level of care the payer stepped the patient down to."
        elif review.level_of_care == auth.level_of_care:
            errors["level_of_care"] = "Choose a level other than the one authorized."
    elif review.level_of_care:
        errors["level_of_care"] = "A level is named only when the payer stepped the patient down."
    if len(review.notes) > 2000:
        errors["notes"] = "Keep the notes under 2,000 characters."
    if errors:
        raise ValidationError(errors)


def _apply_decision(
    review: UtilizationReview, auth: Authorization, *, acting_user: User | None, next_review_on: date | None
) -> list[str]:
    """What the decision changes on the authorization (already locked), saved and audited; the changed names."""
    before = {name: getattr(auth, name) for name in ("status", "units_authorized", "end_date", "review_due_on")}
    if review.outcome in GRANTING:
        if review.units_granted is not None:
            initial = auth.status == Authorization.Status.REQUESTED and review.kind == UtilizationReview.Kind.INITIAL
            auth.units_authorized = review.units_granted if initial else auth.units_authorized + review.units_granted
        if review.new_end_date is not None:
            auth.end_date = review.new_end_date
        auth.status = Authorization.Status.APPROVED
        # A later review starts a new cycle: the old date has passed, so the payer's new one (or the default)
        # replaces it. An initial approval keeps a date entered with the request unless the payer gave another.
        if next_review_on is not None or review.kind != UtilizationReview.Kind.INITIAL:
            auth.review_due_on = next_review_on
    elif review.outcome == Outcome.DENIED and auth.status == Authorization.Status.REQUESTED:
        auth.status = Authorization.Status.DENIED
    changed = [name for name, value in before.items() if getattr(auth, name) != value]
    if not changed:
        return []
    errors: dict[str, str] = {}
    if auth.units_authorized > MAX_UNITS:
        errors["units_granted"] = f"The authorization would cover more than {MAX_UNITS} units."
    if auth.status == Authorization.Status.APPROVED and auth.units_authorized == 0:
        errors["units_granted"] = "Enter the units the payer approved."
    if errors:
        raise ValidationError(errors)
    auth.save(update_fields=[*changed, "updated_at"])
    audit.record(
        action=AuditAction.STATUS_CHANGED if "status" in changed else AuditAction.UPDATED,
        acting_user=acting_user,
        patient=auth.episode.patient,
        obj=auth,
        changed_fields=changed,
    )
    return changed


def _locked(auth: Authorization) -> Authorization:
    return Authorization.objects.select_for_update().select_related("episode__patient").get(pk=auth.pk)


@transaction.atomic
def do_add_review(
    auth: Authorization, *, acting_user: User | None, next_review_on: date | None = None, **fields: Any
) -> UtilizationReview:
    """Record a review (asked for, or already decided) and apply its decision to the authorization."""
    auth = _locked(auth)
    review = UtilizationReview(authorization=auth, recorded_by=acting_user)
    fields.setdefault("outcome", Outcome.PENDING)
    apply_changes(review, fields, REVIEW_FIELDS)
    _check_review(review, auth)
    if next_review_on is not None and review.outcome not in GRANTING:
        raise ValidationError({"next_review_on": "The next review date comes with an approval or an extension."})
    review.save()
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=auth.episode.patient,
        obj=review,
        changed_fields=[n for n, v in fields.items() if v not in ("", None)],
    )
    _apply_decision(review, auth, acting_user=acting_user, next_review_on=next_review_on)
    return review


@transaction.atomic
def do_decide_review(
    review: UtilizationReview, *, acting_user: User, next_review_on: date | None = None, **fields: Any
) -> UtilizationReview:
    """The payer's answer to a pending review (outcome, decision date, units, new end date...)."""
    auth = _locked(review.authorization)
    review = UtilizationReview.objects.select_for_update().get(pk=review.pk)
    if review.outcome != Outcome.PENDING:
        raise ValidationError({"outcome": "This review is already decided; record a new one (an appeal)."})
    allowed = ("decided_on", "outcome", "units_granted", "new_end_date", "level_of_care", "reviewer", "reference")
    changed = apply_changes(review, {k: v for k, v in fields.items() if k in allowed}, allowed)
    if review.outcome == Outcome.PENDING:
        raise ValidationError({"outcome": "Choose what the payer decided."})
    _check_review(review, auth)
    if next_review_on is not None and review.outcome not in GRANTING:
        raise ValidationError({"next_review_on": "The next review date comes with an approval or an extension."})
    review.save()
    audit.record(
        action=AuditAction.STATUS_CHANGED, acting_user=acting_user, patient=auth.episode.patient, obj=review,
        changed_fields=changed,
    )  # fmt: skip
    _apply_decision(review, auth, acting_user=acting_user, next_review_on=next_review_on)
    return review


@transaction.atomic
def do_set_utilization_policy(program: Program, *, acting_user: User, **values: int) -> list[str]:
    """Save a program's own thresholds (CONFIG_CHANGED with the names changed)."""
    row = UtilizationPolicy.objects.select_for_update().filter(program=program).first()
    if row is None:
        row = default_policy(program)
    changed = apply_changes(row, values, POLICY_FIELDS)
    if not changed:  # the defaults, or the row, as they are: no row written, nothing audited
        return []
    row.full_clean(exclude=["program"])
    row.save()
    audit.record(
        action=AuditAction.CONFIG_CHANGED,
        acting_user=acting_user,
        obj=row,
        organization_id=program.site.organization_id,
        changed_fields=changed,
    )
    return changed


def coverage_choices(episode: EpisodeOfCare) -> list[Coverage]:
    """The coverages an authorization of ``episode`` may name: the patient's, active ones first."""
    return list(Coverage.objects.filter(patient_id=episode.patient_id).order_by("-is_active", "priority", "pk"))
