"""Disclosures API: a patient's accounting of disclosures, and the consent gate on outside systems' reads.

``GET /patients/{id}/disclosures?start=&end=``: VIEW_CLINICAL (403), the patient in the user's scope (404), the
entries of the user's programs, audited like every chart read.

``install(api)`` also puts every answer to a bearer token marked as an outside system (``ApiToken.recipient``)
through ``gate``, before the answer is serialized: the patient records the request read are the ones its audit rows
name (every API read of a patient record writes one), so the gate needs nothing from the routers. Each record must
be covered by ``may_disclose`` for the token's recipient and purpose, or the answer becomes a 403 problem and no
data leaves; allowed reads go on the patient's accounting. A read of several patients at once (a list that audits
``PATIENTS_LISTED``) is refused to an outside system: it reads one patient at a time, under that patient's consent.
Tokens of the clinic's own systems (no recipient) are the clinic's staff at work: not disclosures.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Router, Schema

from openiop.accounts.http import request_user
from openiop.api.models import ApiToken
from openiop.api.problems import problem
from openiop.consents.checks import Decision, Recipient, may_disclose
from openiop.consents.disclosures import disclosures_for_user, record_disclosure, window_of
from openiop.consents.models import Channel, DataClass
from openiop.core import audit
from openiop.core.context import current_origin
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.permissions import require
from openiop.core.roles import Cap
from openiop.patients.models import Patient
from openiop.patients.queries import get_patient_for_user

router = Router(tags=["disclosures"])


class DisclosureOut(Schema):
    id: UUID = Field(alias="public_id")
    patient: UUID = Field(alias="patient.public_id")
    program: UUID = Field(alias="program.public_id")
    day: date
    occurred_at: datetime
    last_at: datetime
    times: int
    recipient_type: str
    recipient_name: str
    data_classes: list[str]
    purpose: str
    description: str
    channel: str
    consent: UUID | None = Field(default=None, alias="consent.public_id")


class Window(Schema):
    start: date | None = None
    end: date | None = None


@router.get("/patients/{patient_id}/disclosures", response=list[DisclosureOut])
def list_disclosures(request: HttpRequest, patient_id: UUID, window: Query[Window]) -> Any:
    user = request_user(request)
    require(user, Cap.VIEW_CLINICAL)
    patient = get_patient_for_user(user, patient_id)
    if window.start and window.end and window.start > window.end:
        errors = [{"field": "end", "message": "The end date is before the start date."}]
        return problem(422, "Invalid input", "Check: end", errors=errors)
    start, end = window_of(window.start, window.end)
    audit.record(action=AuditAction.RECORD_VIEWED, acting_user=user, patient=patient, object_type="disclosures")
    return list(disclosures_for_user(user, patient, start=start, end=end).select_related("patient"))


# --- The gate on outside systems' reads -----------------------------------------------------------------------------

# The data class of each audited API read (the audit row's object type). Anything not named here (demographics,
# coverage, contacts, episodes, consents, the intake assessment) needs a consent for all records.
DATA_CLASS_OF: dict[str, str] = {
    "attendancerecord": DataClass.ATTENDANCE,
    "dose_weeks": DataClass.ATTENDANCE,
    "administration": DataClass.MEASURES,
    "notes": DataClass.PROGRESS_NOTES,
    "progressnote": DataClass.PROGRESS_NOTES,
    "treatmentplan": DataClass.TREATMENT_PLAN,
    "planversion": DataClass.TREATMENT_PLAN,
    "progressreview": DataClass.TREATMENT_PLAN,
    "dischargesummary": DataClass.DISCHARGE_SUMMARY,
    "aftercareplan": DataClass.DISCHARGE_SUMMARY,
    "booking": DataClass.SCHEDULE,
    "medication": DataClass.MEDICATIONS,
    "allergy": DataClass.MEDICATIONS,
    "reconciliation": DataClass.MEDICATIONS,
}
READS = (AuditAction.RECORD_VIEWED, AuditAction.CHART_VIEWED, AuditAction.EXPORTED)


def external_token(request: HttpRequest) -> ApiToken | None:
    token = getattr(request, "api_token", None)
    return token if isinstance(token, ApiToken) and token.is_external else None


def gate(request: HttpRequest, token: ApiToken) -> HttpResponse | None:
    """Check and account for what this request read for ``token``'s recipient; a 403 problem when not allowed."""
    request_id = current_origin().request_id
    if not request_id:
        return problem(403, "Not shared", "The request could not be traced.")
    rows = list(
        AuditEvent.objects.filter(actor=token.user, request_id=request_id).values_list(
            "action", "patient_id", "object_type"
        )
    )
    if any(action == AuditAction.PATIENTS_LISTED for action, _, _ in rows):
        return problem(403, "Not shared", "An outside system reads one patient's record at a time.")
    wanted: dict[int, set[str]] = {}
    for action, patient_id, object_type in rows:
        if action in READS and patient_id is not None:
            wanted.setdefault(patient_id, set()).add(DATA_CLASS_OF.get(object_type, DataClass.ALL_RECORDS))
    if not wanted:
        return None
    patients = Patient.objects.select_related("home_program", "organization").in_bulk(list(wanted))
    try:
        recipient = Recipient.parse(token.recipient, next(iter(patients.values())))
    except ValueError:
        return problem(403, "Not shared", "The token's recipient is not one the consent check knows.")
    purpose = token.purpose or "treatment"
    channel = Channel.FHIR if request.path.rstrip("/").endswith("/fhir") else Channel.API
    allowed: list[tuple[Patient, str, Decision]] = []
    for patient_id, classes in wanted.items():
        patient = patients[patient_id]
        for data_class in sorted(classes):
            decision = may_disclose(patient, recipient=recipient, data_class=data_class, purpose=purpose)
            if not decision.allowed:
                return problem(403, "Not shared", decision.reason)
            allowed.append((patient, data_class, decision))
    for patient, data_class, decision in allowed:
        record_disclosure(
            patient, recipient=recipient, recipient_name=token.recipient_name or token.name,
            data_classes=[data_class], purpose=purpose, channel=channel, acting_user=token.user,
            consent=decision.consent, description=f"Read by {token.name} ({request.method} {_route(request)})",
        )  # fmt: skip
    return None


def _route(request: HttpRequest) -> str:
    """The endpoint without its ids: what was read, never whose."""
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", "") or ""
    return route.replace("<", "{").replace(">", "}")[:80]


def install(api: NinjaAPI) -> None:
    """Add the router and the gate: every answer to an outside system's token passes ``gate`` first."""
    api.add_router("", router)
    create_response = api.create_response

    def gated(request: HttpRequest, data: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        token = external_token(request)
        if token is not None:
            status = kwargs.get("status") or 200
            refused = gate(request, token) if status < 400 else None
            if refused is not None:
                return refused
        return create_response(request, data, *args, **kwargs)

    api.create_response = gated  # type: ignore[method-assign]
