"""Drug-testing API: a patient's tests, ordering, collection, results, confirmation, review, lab imports, a
program's schedule draws and its testing report.

Access as on the chart tab (labs.queries): reads ``VIEW_CLINICAL``, writes ``EDIT_CLINICAL`` (403), scoped by the
order's episode program (404 outside the user's programs). Every read of a patient's tests is audited
``RECORD_VIEWED`` (object type ``drug_tests``), so an outside system's token passes the consent gate
(``api/disclosures.py``: a consent covering all SUD records) before any result leaves. The schedule's draws name
patients: audited ``PATIENTS_LISTED``, which the gate never answers to an outside system.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from openiop.accounts.http import request_user
from openiop.api.problems import Conflict
from openiop.api.schemas import ApiIn
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import require
from openiop.core.roles import Cap
from openiop.labs import actions, reports
from openiop.labs.imports import DuplicateImport, do_import
from openiop.labs.jobs import reproduces
from openiop.labs.models import Result, SchedulePick, TestOrder
from openiop.labs.queries import get_order_for_user, patient_orders, program_for_user
from openiop.patients.queries import get_episode_for_user, get_patient_for_user

router = Router(tags=["drug testing"])


class DrugResultOut(Schema):
    id: UUID = Field(alias="public_id")
    analyte: str
    outcome: str
    value: Decimal | None
    cutoff: Decimal | None
    units: str
    interpretation: str
    interpretation_reason: str
    confirmation: str
    confirmation_requested_at: datetime | None
    confirmation_sent_at: datetime | None


class DrugCollectionOut(Schema):
    outcome: str
    collected_at: datetime
    observed: bool
    specimen_id: str
    temperature_in_range: bool | None
    creatinine: str
    ph: str
    specific_gravity: str
    oxidants: str
    custody_form: str
    sealed: bool
    released_to: str
    released_at: datetime | None


class DrugTestOut(Schema):
    id: UUID = Field(alias="public_id")
    patient: UUID = Field(alias="patient.public_id")
    episode: UUID = Field(alias="episode.public_id")
    kind: str
    reason: str
    analytes: list[str]
    due_on: date
    status: str
    collection: DrugCollectionOut | None = None
    results: list[DrugResultOut]
    reviewed_at: datetime | None
    review_note: str

    @staticmethod
    def resolve_collection(obj: TestOrder) -> Any:
        return getattr(obj, "collection", None)

    @staticmethod
    def resolve_results(obj: TestOrder) -> list[Result]:
        return list(obj.results.all())


class DrugTestIn(ApiIn):
    kind: str
    reason: str
    due_on: date


class DrugCollectionIn(ApiIn):
    outcome: str = "collected"
    collected_at: datetime
    observed: bool = False
    specimen_id: str = ""
    temperature_in_range: bool | None = None
    creatinine: str = ""
    ph: str = ""
    specific_gravity: str = ""
    oxidants: str = ""
    custody_form: str = ""
    sealed: bool = False
    released_to: str = ""
    released_at: datetime | None = None
    note: str = ""


class DrugResultIn(ApiIn):
    analyte: str
    outcome: str
    value: Decimal | None = None
    cutoff: Decimal | None = None
    units: str = ""


class DrugResultsIn(ApiIn):
    results: list[DrugResultIn]


class DrugTestReviewIn(ApiIn):
    note: str


class DrugConfirmationIn(ApiIn):
    sent_out: bool = False


class LabImportIn(ApiIn):
    format: str
    content: str = Field(max_length=1_000_000)


class LabImportOut(Schema):
    id: UUID = Field(alias="public_id")
    format: str
    control_id: str
    result_count: int
    created_at: datetime


class DrugTestPickOut(Schema):
    id: UUID = Field(alias="public_id")
    day: date
    seed: int | None
    percent: int | None
    population: list[str]
    days: list[str]
    picks: list[dict[str, str]]
    reproduces: bool

    @staticmethod
    def resolve_reproduces(obj: SchedulePick) -> bool:
        return reproduces(obj)


class DrugScheduleIn(ApiIn):
    mode: str
    percent: int = 25
    weekdays: list[int] = []
    kind: str = "cup"
    is_active: bool = True


class DrugScheduleOut(Schema):
    mode: str
    percent: int
    weekdays: list[int]
    kind: str
    is_active: bool


class DrugPanelIn(ApiIn):
    analytes: list[str] = Field(max_length=20)


class DrugPanelOut(Schema):
    name: str
    analytes: list[str]


class DrugTestingWindow(ApiIn):
    start: date
    end: date


def _order(request: HttpRequest, order_id: UUID, cap: Cap = Cap.EDIT_CLINICAL) -> TestOrder:
    return get_order_for_user(request_user(request), order_id, cap)


def _fresh(order: TestOrder) -> TestOrder:
    """The order as it is now, for the answer (the caller just changed it)."""
    return (
        TestOrder.objects.select_related("patient", "episode", "collection")
        .prefetch_related("results")
        .get(pk=order.pk)
    )


@router.get("/patients/{patient_id}/drug-tests", response=list[DrugTestOut])
def list_tests(request: HttpRequest, patient_id: UUID) -> list[TestOrder]:
    """The patient's drug tests in the caller's programs, newest first, with collection and results."""
    user = request_user(request)
    patient = get_patient_for_user(user, patient_id, Cap.VIEW_CLINICAL)
    rows = list(patient_orders(user, patient).select_related("patient", "episode"))
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="drug_tests")
    return rows


@router.post("/episodes/{episode_id}/drug-tests", response={201: DrugTestOut})
def order_test(request: HttpRequest, episode_id: UUID, payload: DrugTestIn) -> Status[TestOrder]:
    user = request_user(request)
    episode = get_episode_for_user(user, episode_id, Cap.EDIT_CLINICAL)
    order = actions.do_order_test(episode, acting_user=user, kind=payload.kind, reason=payload.reason,
                                  due_on=payload.due_on)  # fmt: skip
    return Status(201, _fresh(order))


@router.post("/drug-tests/{order_id}/collection", response=DrugTestOut)
def record_collection(request: HttpRequest, order_id: UUID, payload: DrugCollectionIn) -> TestOrder:
    order = _order(request, order_id)
    actions.do_record_collection(order, acting_user=request_user(request), **payload.dict())
    return _fresh(order)


@router.post("/drug-tests/{order_id}/results", response=DrugTestOut)
def enter_results(request: HttpRequest, order_id: UUID, payload: DrugResultsIn) -> TestOrder:
    """Results per analyte; an unexpected one raises the clinician's review task in the same transaction."""
    order = _order(request, order_id)
    results = [actions.ResultIn(r.analyte, r.outcome, r.value, r.cutoff, r.units) for r in payload.results]
    actions.do_enter_results(order, acting_user=request_user(request), results=results)
    return _fresh(order)


@router.post("/drug-tests/{order_id}/review", response=DrugTestOut)
def review(request: HttpRequest, order_id: UUID, payload: DrugTestReviewIn) -> TestOrder:
    order = _order(request, order_id)
    actions.do_review(order, acting_user=request_user(request), note=payload.note)
    return _fresh(order)


@router.post("/drug-tests/{order_id}/results/{result_id}/confirmation", response=DrugTestOut)
def request_confirmation(
    request: HttpRequest, order_id: UUID, result_id: UUID, payload: DrugConfirmationIn
) -> TestOrder:
    order = _order(request, order_id)
    result = order.results.filter(public_id=result_id).first()
    if result is None:
        raise ValidationError({"result_id": "No such result on this test."})
    actions.do_request_confirmation(result, acting_user=request_user(request), sent_out=payload.sent_out)
    return _fresh(order)


@router.post("/lab-imports", response={201: LabImportOut})
def import_results(request: HttpRequest, payload: LabImportIn) -> Any:
    """An HL7 v2 ORU^R01 message or a CSV file as text; every result posts, or none (409 for a message seen before)."""
    user = request_user(request)
    require(user, Cap.EDIT_CLINICAL)
    if user.organization is None:
        raise ValidationError({"format": "Your account belongs to no organization."})
    try:
        row = do_import(payload.content.encode(), fmt=payload.format, organization=user.organization, acting_user=user)
    except DuplicateImport as exc:
        fields = sorted(exc.message_dict)
        raise Conflict("Already imported", "; ".join(m for ms in exc.message_dict.values() for m in ms),
                       errors=[{"field": f, "message": exc.message_dict[f][0]} for f in fields]) from None  # fmt: skip
    return Status(201, row)


@router.get("/programs/{program_id}/drug-testing/picks", response=list[DrugTestPickOut])
def schedule_picks(request: HttpRequest, program_id: UUID) -> list[SchedulePick]:
    """The program's schedule draws, newest first: seed, population and picks, and whether they reproduce."""
    user = request_user(request)
    program = program_for_user(user, program_id)
    rows = list(SchedulePick.objects.filter(schedule__program=program).order_by("-day")[:52])
    audit.record(action=AuditAction.PATIENTS_LISTED, acting_user=user, object_type="drug_test_picks",
                 organization_id=program.site.organization_id)  # fmt: skip
    return rows


@router.get("/programs/{program_id}/drug-testing/report")
def testing_report(
    request: HttpRequest, program_id: UUID, window: Query[DrugTestingWindow]
) -> HttpResponse | dict[str, Any]:
    """Testing compliance per week and positive / unexpected rates per analyte (counts only)."""
    user = request_user(request)
    program = program_for_user(user, program_id)
    if window.start > window.end or (window.end - window.start).days > 366:
        raise ValidationError({"end": "The end must be after the start, within a year."})
    report = reports.testing_report(program, window.start, window.end)
    return {
        "program": str(program.public_id),
        "start": report.start,
        "end": report.end,
        "weeks": [{"start": w.start, "ordered": w.ordered, "collected": w.collected, "refused": w.refused,
                   "open": w.open, "compliance": w.compliance} for w in report.weeks],
        "analytes": [{"code": r.code, "results": r.results, "positive": r.positive, "unexpected": r.unexpected,
                      "positive_rate": r.rate(r.positive), "unexpected_rate": r.rate(r.unexpected)}
                     for r in report.rates],
    }  # fmt: skip


@router.put("/programs/{program_id}/drug-testing/schedule", response=DrugScheduleOut)
def set_schedule(request: HttpRequest, program_id: UUID, payload: DrugScheduleIn) -> Any:
    """The program's testing schedule: a random percentage each week, or fixed weekdays (``MANAGE_PROGRAMS``)."""
    user = request_user(request)
    program = program_for_user(user, program_id, Cap.MANAGE_PROGRAMS)
    return actions.do_set_schedule(program, acting_user=user, **payload.dict())


@router.put("/programs/{program_id}/drug-testing/panel", response=DrugPanelOut)
def set_panel(request: HttpRequest, program_id: UUID, payload: DrugPanelIn) -> Any:
    """The analytes the program's cups and send-outs test for (``MANAGE_PROGRAMS``)."""
    user = request_user(request)
    program = program_for_user(user, program_id, Cap.MANAGE_PROGRAMS)
    return actions.do_set_panel(program, acting_user=user, codes=payload.analytes)
