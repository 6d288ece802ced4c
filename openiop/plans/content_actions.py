"""Writes to a draft plan version's content: problems, goals, objectives (with an optional measure target) and
interventions, their removal and order. Each re-reads the version under a row lock and refuses a signed one; each
is one transaction with its audit row (field names only, never the clinical text).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError

from openiop.accounts.models import User
from openiop.core.actions import apply_changes
from openiop.core.models import AuditAction
from openiop.measures import instruments
from openiop.plans.actions import V, audit_plan, locked_draft, locked_version
from openiop.plans.models import Goal, Intervention, Objective, PlanVersion, Problem, TreatmentPlan

MAX_STATEMENT = 1000


def _statement(value: str, field: str = "statement") -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: "Write the statement."})
    if len(value) > MAX_STATEMENT:
        raise ValidationError({field: f"Keep it under {MAX_STATEMENT} characters."})
    return value


def _next_order(qs: models.QuerySet[Any]) -> int:
    return (qs.aggregate(n=models.Max("order"))["n"] or 0) + 1


def _check_diagnosis(plan: TreatmentPlan, diagnosis: Any) -> None:
    if diagnosis is None:
        return
    belongs = diagnosis.episode_id == plan.episode_id or (
        diagnosis.assessment_id is not None and diagnosis.assessment.patient_id == plan.patient_id
    )
    if not belongs or not diagnosis.is_active:
        raise ValidationError({"diagnosis": "Choose one of this patient's diagnoses."})


def goal_instruments() -> list[instruments.Instrument]:
    """Instruments a goal may aim at: those with a total score. The C-SSRS total is a risk level, not a score to
    aim for."""
    return [i for code, i in instruments.REGISTRY.items() if i.has_total and not code.startswith("cssrs")]


def instrument_for(code: str) -> instruments.Instrument:
    """The measures instrument for a goal's code (KeyError when unknown or not a goal measure)."""
    for instrument in goal_instruments():
        if instrument.code == code:
            return instrument
    raise KeyError(code)


def _check_measure(code: str, comparator: str, target: int | None) -> tuple[str, str, int | None]:
    code, comparator = (code or "").strip(), (comparator or "").strip()
    if not code and not comparator and target is None:
        return "", "", None
    errors: dict[str, str] = {}
    instrument = None
    try:
        instrument = instrument_for(code)
    except KeyError:
        errors["measure_code"] = "Choose one of the measures the clinic gives."
    if comparator not in Goal.Comparator.values:
        errors["measure_comparator"] = "Choose below, at or below, above or at or above."
    if target is None:
        errors["measure_target"] = "Give the target score."
    elif instrument is not None and not 0 <= target <= instrument.max_total:
        errors["measure_target"] = f"{instrument.short_name} totals run from 0 to {instrument.max_total}."
    if errors:
        raise ValidationError(errors)
    return code, comparator, target


def _check_target_date(plan: TreatmentPlan, target_date: date | None) -> None:
    admitted = plan.episode.admitted_on
    if target_date is not None and admitted is not None and target_date < admitted:
        raise ValidationError({"target_date": "The target date cannot be before admission."})


def _check_responsible(plan: TreatmentPlan, user: User | None) -> None:
    if user is None:
        return
    program_id = plan.episode.program_id
    if not user.is_active or not user.memberships.filter(program_id=program_id).exists():
        raise ValidationError({"responsible": "Choose an active staff member of this program."})


def _check_intervention(modality: str, frequency: str) -> str:
    errors: dict[str, str] = {}
    if modality not in Intervention.Modality.values:
        errors["modality"] = "Choose a modality."
    frequency = (frequency or "").strip()
    if not frequency:
        errors["frequency"] = 'Say how often, e.g. "3x weekly".'
    elif len(frequency) > 60:
        errors["frequency"] = "Keep it under 60 characters."
    if errors:
        raise ValidationError(errors)
    return frequency


@transaction.atomic
def do_add_problem(version: PlanVersion, *, acting_user: User, statement: str, diagnosis: Any = None) -> Problem:
    version = locked_draft(version)
    _check_diagnosis(version.plan, diagnosis)
    problem = Problem.objects.create(
        version=version,
        order=_next_order(version.problems.all()),
        statement=_statement(statement),
        diagnosis=diagnosis,
    )
    audit_plan(
        version.plan, acting_user, AuditAction.CREATED, ["statement", *(["diagnosis"] if diagnosis else [])], problem
    )
    return problem


@transaction.atomic
def do_update_problem(problem: Problem, *, acting_user: User, **fields: Any) -> list[str]:
    version = locked_draft(problem.version)
    problem = Problem.objects.select_for_update().get(pk=problem.pk)
    if "statement" in fields:
        fields["statement"] = _statement(fields["statement"])
    if "diagnosis" in fields:
        _check_diagnosis(version.plan, fields["diagnosis"])
    changed = apply_changes(problem, fields, ("statement", "diagnosis"))
    if changed:
        problem.save()
        audit_plan(version.plan, acting_user, AuditAction.UPDATED, changed, problem)
    return changed


@transaction.atomic
def do_add_goal(
    problem: Problem,
    *,
    acting_user: User,
    statement: str,
    measure_code: str = "",
    measure_comparator: str = "",
    measure_target: int | None = None,
) -> Goal:
    version = locked_draft(problem.version)
    code, comparator, target = _check_measure(measure_code, measure_comparator, measure_target)
    goal = Goal.objects.create(
        problem=problem,
        order=_next_order(problem.goals.all()),
        statement=_statement(statement),
        measure_code=code,
        measure_comparator=comparator,
        measure_target=target,
    )
    fields = ["statement", *(["measure_code", "measure_comparator", "measure_target"] if code else [])]
    audit_plan(version.plan, acting_user, AuditAction.CREATED, fields, goal)
    return goal


@transaction.atomic
def do_update_goal(goal: Goal, *, acting_user: User, **fields: Any) -> list[str]:
    version = locked_draft(goal.problem.version)
    goal = Goal.objects.select_for_update().get(pk=goal.pk)
    if "statement" in fields:
        fields["statement"] = _statement(fields["statement"])
    measure = ("measure_code", "measure_comparator", "measure_target")
    if any(name in fields for name in measure):
        values = [fields.get(name, getattr(goal, name)) for name in measure]
        fields.update(zip(measure, _check_measure(*values), strict=True))
    changed = apply_changes(goal, fields, ("statement", *measure))
    if changed:
        goal.save()
        audit_plan(version.plan, acting_user, AuditAction.UPDATED, changed, goal)
    return changed


@transaction.atomic
def do_add_objective(
    goal: Goal,
    *,
    acting_user: User,
    statement: str,
    target_date: date | None = None,
    status: str = Objective.Status.NOT_STARTED,
) -> Objective:
    version = locked_draft(goal.problem.version)
    _check_target_date(version.plan, target_date)
    if status not in Objective.Status.values:
        raise ValidationError({"status": "Choose a status."})
    objective = Objective.objects.create(
        goal=goal,
        order=_next_order(goal.objectives.all()),
        statement=_statement(statement),
        target_date=target_date,
        status=status,
    )
    audit_plan(version.plan, acting_user, AuditAction.CREATED, ["statement", "target_date", "status"], objective)
    return objective


@transaction.atomic
def do_update_objective(objective: Objective, *, acting_user: User, **fields: Any) -> list[str]:
    version = locked_draft(objective.goal.problem.version)
    objective = Objective.objects.select_for_update().get(pk=objective.pk)
    if "statement" in fields:
        fields["statement"] = _statement(fields["statement"])
    if "target_date" in fields:
        _check_target_date(version.plan, fields["target_date"])
    if "status" in fields and fields["status"] not in Objective.Status.values:
        raise ValidationError({"status": "Choose a status."})
    changed = apply_changes(objective, fields, ("statement", "target_date", "status"))
    if changed:
        objective.save()
        audit_plan(version.plan, acting_user, AuditAction.UPDATED, changed, objective)
    return changed


@transaction.atomic
def do_set_objective_status(objective: Objective, *, acting_user: User, status: str) -> bool:
    """Progress on an objective: allowed on the draft and on the version in force (a review marks it met), because
    the status is progress against the plan, not the plan's content. True when it changed."""
    version = locked_version(objective.goal.problem.version)
    if version.status not in (V.DRAFT, V.ACTIVE):
        raise ValidationError({"status": "Only the draft's and the active version's objectives take progress."})
    if status not in Objective.Status.values:
        raise ValidationError({"status": "Choose a status."})
    objective = Objective.objects.select_for_update().get(pk=objective.pk)
    if objective.status == status:
        return False
    objective.status = status
    objective.save(update_fields=["status", "updated_at"])
    audit_plan(version.plan, acting_user, AuditAction.UPDATED, ["status"], objective)
    return True


@transaction.atomic
def do_add_intervention(
    objective: Objective,
    *,
    acting_user: User,
    modality: str,
    frequency: str,
    responsible: User | None = None,
    description: str = "",
) -> Intervention:
    version = locked_draft(objective.goal.problem.version)
    frequency = _check_intervention(modality, frequency)
    _check_responsible(version.plan, responsible)
    intervention = Intervention.objects.create(
        objective=objective,
        order=_next_order(objective.interventions.all()),
        modality=modality,
        frequency=frequency,
        responsible=responsible,
        description=(description or "").strip()[:300],
    )
    fields = [
        "modality",
        "frequency",
        *(["responsible"] if responsible else []),
        *(["description"] if description else []),
    ]
    audit_plan(version.plan, acting_user, AuditAction.CREATED, fields, intervention)
    return intervention


@transaction.atomic
def do_update_intervention(intervention: Intervention, *, acting_user: User, **fields: Any) -> list[str]:
    version = locked_draft(intervention.objective.goal.problem.version)
    intervention = Intervention.objects.select_for_update().get(pk=intervention.pk)
    modality = fields.get("modality", intervention.modality)
    frequency = fields.get("frequency", intervention.frequency)
    checked = _check_intervention(modality, frequency)
    if "frequency" in fields:
        fields["frequency"] = checked
    if "responsible" in fields:
        _check_responsible(version.plan, fields["responsible"])
    if "description" in fields:
        fields["description"] = (fields["description"] or "").strip()[:300]
    changed = apply_changes(intervention, fields, ("modality", "frequency", "responsible", "description"))
    if changed:
        intervention.save()
        audit_plan(version.plan, acting_user, AuditAction.UPDATED, changed, intervention)
    return changed


PlanItem = Problem | Goal | Objective | Intervention


def item_version(item: PlanItem) -> PlanVersion:
    if isinstance(item, Problem):
        return item.version
    if isinstance(item, Goal):
        return item.problem.version
    if isinstance(item, Objective):
        return item.goal.problem.version
    return item.objective.goal.problem.version


def _siblings(item: PlanItem) -> models.QuerySet[Any]:
    if isinstance(item, Problem):
        return Problem.objects.filter(version_id=item.version_id)
    if isinstance(item, Goal):
        return Goal.objects.filter(problem_id=item.problem_id)
    if isinstance(item, Objective):
        return Objective.objects.filter(goal_id=item.goal_id)
    return Intervention.objects.filter(objective_id=item.objective_id)


@transaction.atomic
def do_remove_item(item: PlanItem, *, acting_user: User) -> None:
    """Take an item (and what hangs under it) out of a draft. A draft was never signed, so this is work in progress
    being edited, not a clinical record being deleted; signed versions are never touched."""
    version = locked_draft(item_version(item))
    try:
        with transaction.atomic():
            item.delete()
    except ProtectedError:
        raise ValidationError({"item": "A note already refers to this item; it cannot be removed."}) from None
    audit_plan(version.plan, acting_user, AuditAction.DEACTIVATED, [type(item).__name__.lower()], item)


@transaction.atomic
def do_move_item(item: PlanItem, *, acting_user: User, direction: str) -> bool:
    """Swap the item with its neighbour above ("up") or below ("down"); False at the edge."""
    version = locked_draft(item_version(item))
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Move up or down."})
    rows = list(_siblings(item).select_for_update().order_by("order", "id"))
    index = next(i for i, row in enumerate(rows) if row.pk == item.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rows):
        return False
    rows[index], rows[other] = rows[other], rows[index]
    for position, row in enumerate(rows, start=1):
        if row.order != position:
            row.order = position
            row.save(update_fields=["order", "updated_at"])
    audit_plan(version.plan, acting_user, AuditAction.UPDATED, ["order"], item)
    return True
