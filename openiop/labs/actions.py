"""Writes of drug testing: an order, its collection (or refusal), its results, a confirmation request, the
clinician's review, a program's panel and schedule.

Each is one transaction with its audit row (field names only, never a result). Results are read against the
patient's medication list on the day of collection (``interpret``); an unexpected one raises, in the same
transaction, a work-queue task for the episode's primary clinician, and the chart flag "Unexpected result awaiting
review" stays up until a clinician reviews the order. The task's reason names no substance: the work queue is read
by the whole program team, the result itself only on the chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.labs import analytes, interpret
from openiop.labs.models import Collection, LabImport, Panel, Result, TestingSchedule, TestOrder
from openiop.medications.queries import active_ingredients
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program
from openiop.worklist import actions as worklist
from openiop.worklist.models import WorkTask

OPEN_EPISODE = (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD)
MAX_NOTE = 2000


def panel_codes(program: Program, kind: str) -> list[str]:
    """The analytes an order of ``kind`` tests for in ``program``: breath alcohol for a breathalyzer; otherwise the
    program's panel, else the organization's, else the default (less breath alcohol, which a cup cannot read)."""
    if kind == TestOrder.Kind.BREATH:
        return list(analytes.BREATH)
    panel = Panel.objects.filter(program=program).first() or (
        Panel.objects.filter(organization_id=program.site.organization_id, program__isnull=True).first()
    )
    codes = list(panel.analytes) if panel else list(analytes.DEFAULT_PANEL)
    return [c for c in codes if c != analytes.BAC] or list(analytes.DEFAULT_PANEL[:-1])


@transaction.atomic
def do_set_panel(program: Program, *, acting_user: User, codes: list[str], name: str = "") -> Panel:
    unknown = [c for c in codes if c not in analytes.NAMES]
    if unknown or not codes:
        raise ValidationError({"analytes": f"Choose analytes from {', '.join(analytes.CODES)}."})
    row, _ = Panel.objects.update_or_create(
        program=program,
        defaults={
            "organization_id": program.site.organization_id,
            "name": name or f"{program.name} panel",
            "analytes": list(dict.fromkeys(codes)),
        },
    )
    audit.record(
        action=AuditAction.CONFIG_CHANGED,
        acting_user=acting_user,
        obj=row,
        changed_fields=["analytes"],
        organization_id=program.site.organization_id,
    )
    return row


@transaction.atomic
def do_order_test(
    episode: EpisodeOfCare,
    *,
    acting_user: User | None,
    kind: str,
    reason: str,
    due_on: date,
    pick: Any = None,
) -> TestOrder:
    errors: dict[str, str] = {}
    if kind not in TestOrder.Kind.values:
        errors["kind"] = "Choose a cup, a lab send-out or a breathalyzer."
    if reason not in TestOrder.Reason.values:
        errors["reason"] = "Choose random, scheduled or clinical."
    if not isinstance(due_on, date):
        errors["due_on"] = "Say when the test is due."
    if episode.status not in OPEN_EPISODE:
        errors["episode"] = "Tests are ordered for an open episode."
    if errors:
        raise ValidationError(errors)
    order = TestOrder.objects.create(
        patient=episode.patient,
        episode=episode,
        kind=kind,
        reason=reason,
        analytes=panel_codes(episode.program, kind),
        due_on=due_on,
        ordered_by=acting_user,
        pick=pick,
    )
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=order,
        changed_fields=["kind", "reason", "due_on", "analytes"],
    )
    return order


COLLECTION_FIELDS = (
    "outcome", "collected_at", "observed", "specimen_id", "temperature_in_range", "creatinine", "ph",
    "specific_gravity", "oxidants", "custody_form", "sealed", "released_to", "released_at", "note",
)  # fmt: skip


@transaction.atomic
def do_record_collection(order: TestOrder, *, acting_user: User, **values: Any) -> Collection:
    """The specimen for ``order`` (or that the patient refused or could not provide one)."""
    unknown = set(values) - set(COLLECTION_FIELDS)
    if unknown:
        raise TypeError(f"Collection does not accept {sorted(unknown)}")
    order = TestOrder.objects.select_for_update().get(pk=order.pk)
    errors: dict[str, str] = {}
    if order.status != TestOrder.Status.ORDERED:
        errors["order"] = "This test has already been collected or refused."
    outcome = values.get("outcome") or Collection.Outcome.COLLECTED
    if outcome not in Collection.Outcome.values:
        errors["outcome"] = "Choose collected, refused or unable to provide."
    collected_at = values.get("collected_at")
    if not isinstance(collected_at, datetime):
        errors["collected_at"] = "Say when the specimen was collected."
    elif collected_at > timezone.now() + timedelta(minutes=10):
        errors["collected_at"] = "That time is still to come."
    specimen_id = str(values.get("specimen_id") or "").strip()
    if outcome == Collection.Outcome.COLLECTED and not specimen_id:
        errors["specimen_id"] = "Enter the specimen id from the label."
    elif specimen_id and Collection.objects.filter(specimen_id=specimen_id).exists():
        errors["specimen_id"] = "Another specimen already has this id."
    for check in ("creatinine", "ph", "specific_gravity", "oxidants"):
        if values.get(check, "") not in Collection.Check.values:
            errors[check] = "Choose pass, fail or not done."
    if len(str(values.get("note") or "")) > 500:
        errors["note"] = "Keep it under 500 characters."
    if errors:
        raise ValidationError(errors)
    fields = {k: v for k, v in values.items() if v is not None} | {"outcome": outcome, "specimen_id": specimen_id}
    collection = Collection.objects.create(order=order, collected_by=acting_user, **fields)
    order.status = {
        Collection.Outcome.COLLECTED: TestOrder.Status.COLLECTED,
        Collection.Outcome.REFUSED: TestOrder.Status.REFUSED,
        Collection.Outcome.UNABLE: TestOrder.Status.UNABLE,
    }[outcome]
    order.save(update_fields=["status", "updated_at"])
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=order.patient,
        obj=collection,
        changed_fields=sorted(k for k, v in fields.items() if v not in ("", None, False)),
    )
    return collection


@dataclass(frozen=True)
class ResultIn:
    analyte: str
    outcome: str
    value: Any = None
    cutoff: Any = None
    units: str = ""


def _decimal(raw: Any, field: str, errors: dict[str, str]) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        number = Decimal(str(raw))
    except InvalidOperation:
        errors[field] = "Enter a number."
        return None
    if not number.is_finite() or number < 0 or number >= Decimal("10000000"):
        errors[field] = "Enter a number from 0 to 9999999."
        return None
    return number


def clean_results(order: TestOrder, results: list[ResultIn], prefix: str = "results") -> list[dict[str, Any]]:
    """Checked values for ``results`` on ``order``; a ValidationError naming ``<prefix>[i].<field>`` otherwise."""
    errors: dict[str, str] = {}
    seen: set[str] = set(order.results.values_list("analyte", flat=True)) if order.pk else set()
    cleaned: list[dict[str, Any]] = []
    if not results:
        errors[prefix] = "Enter at least one analyte's result."
    for i, r in enumerate(results):
        at = f"{prefix}[{i}]"
        if r.analyte not in order.analytes:
            errors[f"{at}.analyte"] = f"Not on this order's panel ({', '.join(order.analytes)})."
        elif r.analyte in seen:
            errors[f"{at}.analyte"] = "This analyte already has a result on this test."
        seen.add(r.analyte)
        if r.outcome not in Result.Outcome.values:
            errors[f"{at}.outcome"] = "Choose positive, negative or invalid."
        value = _decimal(r.value, f"{at}.value", errors)
        cutoff = _decimal(r.cutoff, f"{at}.cutoff", errors)
        if len(r.units) > 20:
            errors[f"{at}.units"] = "Keep it under 20 characters."
        cleaned.append({"analyte": r.analyte, "outcome": r.outcome, "value": value, "cutoff": cutoff, "units": r.units})
    if order.status != TestOrder.Status.COLLECTED and order.status != TestOrder.Status.RESULTED:
        errors["order"] = "Results are entered for a collected specimen."
    if errors:
        raise ValidationError(errors)
    return cleaned


def review_trigger_key(order: TestOrder) -> str:
    return f"drug_test:{order.public_id}"


@transaction.atomic
def do_enter_results(
    order: TestOrder, *, acting_user: User, results: list[ResultIn], lab_import: LabImport | None = None
) -> list[Result]:
    """Record ``results`` for a collected order, each read against the medication list on the day of collection.
    Any unexpected result raises the primary clinician's review task in this same transaction."""
    order = TestOrder.objects.select_for_update().select_related("patient", "episode__program__site").get(pk=order.pk)
    cleaned = clean_results(order, results)
    collection = order.collection
    day = timezone.localdate(collection.collected_at, timezone=order.episode.program.tz())
    taken = active_ingredients(order.patient, day)
    rows = []
    for values in cleaned:
        verdict = interpret.interpret(values["analyte"], values["outcome"], taken)
        rows.append(
            Result.objects.create(
                order=order,
                entered_by=acting_user,
                lab_import=lab_import,
                interpretation=verdict.status,
                interpretation_reason=verdict.reason[:400],
                **values,
            )
        )
    order.status = TestOrder.Status.RESULTED
    fields = ["status", "updated_at"]
    if any(r.interpretation == interpret.UNEXPECTED for r in rows) and order.reviewed_at is not None:
        # A new unexpected result needs a new review.
        order.reviewed_at, order.reviewed_by, order.review_note = None, None, ""
        fields += ["reviewed_at", "reviewed_by", "review_note"]
    order.save(update_fields=fields)
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=order.patient,
        obj=order,
        object_type="drug_test_result",
        changed_fields=["analyte", "outcome", "value", "cutoff", "interpretation"],
    )
    if any(r.interpretation == interpret.UNEXPECTED for r in rows):
        _raise_review(order, acting_user, day)
    return rows


def _raise_review(order: TestOrder, acting_user: User, day: date) -> None:
    key = review_trigger_key(order)
    task = WorkTask.objects.filter(trigger_key=key).first()
    if task is not None:
        worklist.do_reopen_task(task, acting_user=acting_user, due_on=timezone.localdate())
        return
    worklist.do_raise_task(
        acting_user=acting_user,
        episode=order.episode,
        kind=WorkTask.Kind.DRUG_TEST_REVIEW,
        trigger_key=key,
        # Words the whole team's queue may show: that there is a result to review, never what it found.
        reason=f"Drug test collected {day:%a} {day.day} {day:%b}: result to review on the chart",
        due_on=timezone.localdate(),
    )


@transaction.atomic
def do_review(order: TestOrder, *, acting_user: User, note: str) -> TestOrder:
    """The clinician's review of the order's results: takes the chart flag down and closes the task."""
    order = TestOrder.objects.select_for_update().get(pk=order.pk)
    note = (note or "").strip()
    errors: dict[str, str] = {}
    if order.status != TestOrder.Status.RESULTED:
        errors["order"] = "There are no results to review yet."
    if not note:
        errors["note"] = "Say what the result means for the plan (a sentence is enough)."
    elif len(note) > MAX_NOTE:
        errors["note"] = f"Keep it under {MAX_NOTE} characters."
    if errors:
        raise ValidationError(errors)
    order.reviewed_by, order.reviewed_at, order.review_note = acting_user, timezone.now(), note
    order.save(update_fields=["reviewed_by", "reviewed_at", "review_note", "updated_at"])
    audit.record(
        action=AuditAction.UPDATED,
        acting_user=acting_user,
        patient=order.patient,
        obj=order,
        changed_fields=["reviewed_by", "reviewed_at", "review_note"],
    )
    task = WorkTask.objects.filter(trigger_key=review_trigger_key(order), status=WorkTask.Status.OPEN).first()
    if task is not None:
        worklist.do_close_task(task, acting_user=acting_user, outcome=WorkTask.Outcome.PLAN_CHANGED, note="Reviewed.")
    return order


@transaction.atomic
def do_request_confirmation(result: Result, *, acting_user: User, sent_out: bool = False) -> Result:
    """Ask for (or record sending out) a confirmation test of an unexpected result."""
    result = Result.objects.select_for_update().select_related("order__patient").get(pk=result.pk)
    if result.interpretation != Result.Interpretation.UNEXPECTED:
        raise ValidationError({"result": "Confirmation is asked for an unexpected result."})
    now = timezone.now()
    changed = []
    if not result.confirmation:
        result.confirmation, result.confirmation_requested_by, result.confirmation_requested_at = (
            Result.Confirmation.REQUESTED, acting_user, now,
        )  # fmt: skip
        changed += ["confirmation", "confirmation_requested_by", "confirmation_requested_at"]
    if sent_out and result.confirmation != Result.Confirmation.SENT_OUT:
        result.confirmation, result.confirmation_sent_at = Result.Confirmation.SENT_OUT, now
        changed += ["confirmation", "confirmation_sent_at"]
    if changed:
        result.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            patient=result.order.patient,
            obj=result,
            changed_fields=list(dict.fromkeys(changed)),
        )
    return result


@transaction.atomic
def do_set_schedule(
    program: Program, *, acting_user: User, mode: str, percent: int, weekdays: list[int], kind: str, is_active: bool
) -> TestingSchedule:
    errors: dict[str, str] = {}
    if mode not in TestingSchedule.Mode.values:
        errors["mode"] = "Choose random or fixed weekdays."
    if mode == TestingSchedule.Mode.RANDOM and (isinstance(percent, bool) or not 1 <= int(percent) <= 100):
        errors["percent"] = "Choose a percentage from 1 to 100."
    if mode == TestingSchedule.Mode.FIXED and (not weekdays or any(d not in range(7) for d in weekdays)):
        errors["weekdays"] = "Choose at least one weekday (0 = Monday to 6 = Sunday)."
    if kind not in TestOrder.Kind.values:
        errors["kind"] = "Choose a cup, a lab send-out or a breathalyzer."
    if errors:
        raise ValidationError(errors)
    row, _ = TestingSchedule.objects.update_or_create(
        program=program,
        defaults={
            "mode": mode,
            "percent": int(percent) if mode == TestingSchedule.Mode.RANDOM else 100,
            "weekdays": sorted(set(weekdays)) if mode == TestingSchedule.Mode.FIXED else [],
            "kind": kind,
            "is_active": is_active,
        },
    )
    audit.record(
        action=AuditAction.CONFIG_CHANGED,
        acting_user=acting_user,
        obj=row,
        changed_fields=["mode", "percent", "weekdays", "kind", "is_active"],
        organization_id=program.site.organization_id,
    )
    return row
