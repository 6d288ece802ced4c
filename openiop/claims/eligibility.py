"""Eligibility: ask a coverage's payer whether the patient is covered for IOP (270) and read its answer (271).

The 270 is written by our own writer (``openiop.lib.x12.write_270``, 005010X279A1), with interchange, group and
transaction-set control numbers from the organization's counters (shared with the 837 files, so no two outbound
files share one) and a trace number from its own counter; pyx12 has no 5010 map for 270/271, so the file is checked
with ``validate_envelope`` (envelope, counts, HL parents) before it is kept, and our tests check the segment order
against the guide. The 271 is read by ``read_271``; an answer is taken once (its SHA-256) and only for the check whose
trace number it echoes.

**Exchange.** ``EligibilityExchange.send(text)`` hands the 270 to whoever answers it and returns the 271 text when
the answer comes back at once, or None when it will come later. ``FileExchange`` (the default, and the only one
here) returns None: staff download the 270 from the check's page, send it through the clearinghouse's portal and
upload the 271 they get back. A clearinghouse adapter (a real-time 270/271 over its API) would implement the same
protocol and be chosen by ``exchange()``; none calls the network from this module.

Access: requesting and uploading need EDIT_COVERAGE or MANAGE_BILLING, reading EDIT_COVERAGE, VIEW_BILLING or
MANAGE_BILLING (403 first), then the patient in the user's programs (404). Every read of an answer is audited.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateformat import format as date_format

from openiop.billing.models import BillingProvider
from openiop.claims.build import next_number
from openiop.claims.eligibility_models import KIND_270, KIND_271, EligibilityCheck
from openiop.claims.models import X12File
from openiop.claims.part2 import payer_consent
from openiop.claims.x12out import GENDER, RELATIONSHIP
from openiop.claims.x12out import _profile as submission_profile
from openiop.consents.models import DataClass
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import require
from openiop.core.roles import Cap
from openiop.lib import x12
from openiop.lib.x12 import codes
from openiop.lib.x12.eligibility import ACTIVE_CODES, CoveredPerson
from openiop.lib.x12.reading import segments
from openiop.patients.actions import do_update_coverage
from openiop.patients.models import Coverage, EpisodeOfCare
from openiop.patients.queries import patients_for_user

if TYPE_CHECKING:
    from openiop.accounts.models import User

REQUEST_CAPS = (Cap.EDIT_COVERAGE, Cap.MANAGE_BILLING)
READ_CAPS = (Cap.EDIT_COVERAGE, Cap.VIEW_BILLING, Cap.MANAGE_BILLING)
# Service types asked (EQ01): 30 the plan itself, MH mental health, A8 psychiatric outpatient (an IOP is outpatient;
# A7 inpatient is not asked). AI substance use only for a patient of a substance-use program: asking it for anyone
# else would tell the payer something the IOP visit itself does not.
SERVICE_TYPES = ("30", "MH", "A8")
SUBSTANCE_USE_TYPE = "AI"
# A 271 for one person is a few kilobytes; this bounds what a mistaken upload can cost.
MAX_BYTES = 1_000_000
# AAA03: why the payer could not answer (005010X279A1), the frequent ones.
REJECTION_REASONS = {
    "41": "Authorization or access restrictions",
    "42": "The payer cannot respond at this time",
    "43": "Invalid or missing provider identification",
    "58": "Invalid or missing date of birth",
    "65": "Invalid or missing patient name",
    "67": "Patient not found",
    "71": "Date of birth does not match the payer's records",
    "72": "Invalid or missing member id",
    "73": "Invalid or missing subscriber name",
    "75": "Subscriber not found",
    "76": "Duplicate subscriber",
    "79": "Invalid participant identification",
}


class EligibilityExchange(Protocol):
    def send(self, text: str) -> str | None:
        """Hand over the 270; the 271 text if it came back at once, else None (it will be uploaded later)."""


class FileExchange:
    """The 270 waits on the check's page for staff to download; the 271 is uploaded there."""

    def send(self, text: str) -> str | None:
        return None


def exchange() -> EligibilityExchange:
    return FileExchange()


# --- Reads ----------------------------------------------------------------------------------------------------


def checks_for_user(user: User, *caps: Cap) -> QuerySet[EligibilityCheck]:
    require(user, any_of=caps or READ_CAPS)
    if user.organization_id is None:
        return EligibilityCheck.objects.none()
    return EligibilityCheck.objects.filter(
        organization_id=user.organization_id, coverage__patient__in=patients_for_user(user)
    )


def get_check_for_user(user: User, public_id: UUID | str, *caps: Cap) -> EligibilityCheck:
    try:
        return (
            checks_for_user(user, *caps)
            .select_related("coverage__patient", "payer", "request_file", "response_file", "requested_by")
            .get(public_id=public_id)
        )
    except EligibilityCheck.DoesNotExist:
        raise Http404 from None


def get_coverage_for_user(user: User, public_id: UUID | str) -> Coverage:
    require(user, any_of=REQUEST_CAPS)
    try:
        return (
            Coverage.objects.select_related("patient", "payer")
            .filter(patient__in=patients_for_user(user), patient__organization_id=user.organization_id)
            .get(public_id=public_id)
        )
    except Coverage.DoesNotExist:
        raise Http404 from None


def record_read(user: User, check: EligibilityCheck, how: AuditAction = AuditAction.RECORD_VIEWED) -> None:
    """An eligibility answer is PHI: every read is audited, on the patient's record."""
    audit.record(action=how, acting_user=user, patient=check.coverage.patient, obj=check)


def latest_checks(coverages: list[Coverage]) -> dict[int, EligibilityCheck]:
    """The newest check of each coverage, one query (the Insurance tab)."""
    latest: dict[int, EligibilityCheck] = {}
    rows = EligibilityCheck.objects.filter(coverage__in=coverages).order_by("coverage_id", "-requested_at", "-pk")
    for check in rows:
        latest.setdefault(check.coverage_id, check)
    return latest


# --- The 270 --------------------------------------------------------------------------------------------------


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def service_types_for(coverage: Coverage) -> tuple[str, ...]:
    patient = coverage.patient
    substance_use = patient.home_program is not None and patient.home_program.is_substance_use
    if not substance_use:
        open_episodes = EpisodeOfCare.objects.filter(patient=patient).exclude(status=EpisodeOfCare.Status.DISCHARGED)
        substance_use = any(e.program.is_substance_use for e in open_episodes.select_related("program"))
    return (*SERVICE_TYPES, SUBSTANCE_USE_TYPE) if substance_use else SERVICE_TYPES


def _people(coverage: Coverage) -> tuple[x12.Person, x12.Patient | None]:
    """The subscriber, and the patient as a dependent when the patient is not the subscriber (HL 23)."""
    patient = coverage.patient
    person = x12.Person(
        last_name=patient.legal_last_name,
        first_name=patient.legal_first_name,
        middle_name=patient.legal_middle_name,
        birth_date=patient.date_of_birth,
        gender=GENDER.get(patient.sex_assigned_at_birth, "U"),
    )
    if coverage.relationship_to_subscriber == Coverage.Relationship.SELF:
        return person, None
    first, _, last = coverage.subscriber_name.strip().rpartition(" ")
    if not last or not first:
        raise ValidationError({"subscriber_name": "Enter the subscriber's first and last name (Insurance tab)."})
    subscriber = x12.Person(last_name=last, first_name=first, birth_date=coverage.subscriber_date_of_birth)
    return subscriber, x12.Patient(person=person, relationship=RELATIONSHIP[coverage.relationship_to_subscriber])


def _check_coverage(coverage: Coverage) -> None:
    if not coverage.is_active:
        raise ValidationError({"coverage": "The coverage is inactive; reactivate it to check eligibility."})
    if coverage.payer is None or not coverage.payer.payer_id:
        raise ValidationError({"payer": "Pick the coverage's payer, with its payer ID, before checking eligibility."})
    if not coverage.member_id.strip():
        raise ValidationError({"member_id": "Enter the member ID."})


@transaction.atomic
def do_request_eligibility(
    coverage: Coverage, *, acting_user: User, exchange_to: EligibilityExchange | None = None
) -> EligibilityCheck:
    """Write, check and keep the 270 for ``coverage`` and hand it to the exchange (ValidationError naming the field
    that stops it: payer, member_id, subscriber_name, profile, billing_provider)."""
    _check_coverage(coverage)
    payer = coverage.payer
    assert payer is not None  # narrowing: checked above
    consent = payer_consent(coverage.patient, payer.name, data_classes=(DataClass.ATTENDANCE,))
    if consent is not None and not consent.allowed:
        # Asking a payer about a person of a substance-use program tells it they applied there: a Part 2 disclosure.
        raise ValidationError({"consent": f"42 CFR Part 2: {consent.decision.reason}"})
    organization = coverage.patient.organization
    profile = submission_profile(organization)
    try:
        provider = BillingProvider.objects.get(organization=organization)
    except ObjectDoesNotExist:
        raise ValidationError(
            {"billing_provider": "Set the organization's NPI and EIN first (Billing setup)."}
        ) from None
    if len(_digits(provider.tax_id)) != 9 or not provider.npi:
        raise ValidationError({"billing_provider": "The organization's NPI and 9-digit EIN are needed (TRN03)."})
    subscriber, dependent = _people(coverage)
    now = timezone.now()
    trace = f"OIE{next_number(organization, 'eligibility'):09d}"
    service_types = service_types_for(coverage)
    try:
        request = x12.EligibilityRequest(
            envelope=x12.Envelope(
                sender_qualifier=profile.sender_qualifier,
                sender_id=profile.sender_id,
                receiver_qualifier=profile.receiver_qualifier,
                receiver_id=profile.receiver_id,
                control_number=next_number(organization, "isa"),
                group_control_number=next_number(organization, "gs"),
                created_at=timezone.localtime(now),
                usage=profile.usage,
                application_sender_code=profile.sender_id,
                application_receiver_code=profile.receiver_id,
            ),
            control_number=f"{next_number(organization, 'st'):04d}",
            payer=x12.Payer(name=payer.name, payer_id=payer.payer_id),
            provider_name=provider.legal_name,
            provider_npi=provider.npi,
            subscriber=subscriber,
            member_id=coverage.member_id.strip(),
            trace_number=trace,
            trace_originator="1" + _digits(provider.tax_id),
            service_types=service_types,
            service_date=timezone.localdate(now),
            dependent=dependent,
            group_number=coverage.group_number.strip(),
        )
    except ValueError as exc:
        # The model names the field it refused (a delimiter in a name, say): the chart needs fixing.
        raise ValidationError({"coverage": f"The inquiry could not be written: {exc}"}) from exc
    text = x12.write_270(request)
    problems = x12.validate_envelope(text)
    if problems:
        raise ValidationError({"coverage": "; ".join(f"{p.segment_id}: {p.message}" for p in problems[:5])})
    file = X12File.objects.create(
        organization=organization,
        kind=KIND_270,
        direction=X12File.Direction.OUT,
        interchange_control_number=request.envelope.control_number,
        group_control_number=request.envelope.group_control_number,
        transaction_control_numbers=[{"control_number": request.control_number, "trace_number": trace}],
        content=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        summary=f"Eligibility inquiry ({', '.join(service_types)})",
        created_by=acting_user,
    )
    check = EligibilityCheck.objects.create(
        organization=organization,
        coverage=coverage,
        payer=payer,
        requested_at=now,
        requested_by=acting_user,
        trace_number=trace,
        service_types=list(service_types),
        request_file=file,
    )
    audit.record(action=AuditAction.CREATED, acting_user=acting_user, patient=coverage.patient, obj=check)
    answer = (exchange_to or exchange()).send(text)
    if answer is not None:
        do_record_response(check, answer, acting_user=acting_user)
    return check


# --- The 271 --------------------------------------------------------------------------------------------------


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _group_and_plan(text: str, trace: str) -> tuple[str, str]:
    """REF*6P (group number, and its name in REF03) and REF*18 (plan) of the person answered about: the reader keeps
    neither, so they are read here from the subscriber's HL (a dependent's HL 23 inherits it) up to the first EB of
    the HL that carries our trace number."""
    segs, _ = segments(text, expect="271")
    refs: list[tuple[str, str, str]] = []
    found = seen_eb = False
    for seg in segs:
        if seg.id == "HL":
            if found:
                break
            seen_eb = False
            if seg.get(3) == "22":
                refs = []
        elif seg.id == "EB":
            if found:
                break
            seen_eb = True
        elif seg.id == "TRN" and seg.get(1) == "2" and seg.get(2) == trace:
            found = True
        elif seg.id == "REF" and not seen_eb and seg.get(1) in ("6P", "18"):
            refs.append((seg.get(1), seg.get(2), seg.get(3)))
    group = plan = ""
    for qualifier, value, description in refs if found else []:
        if qualifier == "6P":
            group, plan = value, plan or description
        else:
            plan = description or value
    return group, plan


def _coverage_dates(person: CoveredPerson) -> tuple[date | None, date | None]:
    """Plan (346/347, 291) or eligibility (356/357, 307) dates of the person, or of the active benefit."""
    start = end = None
    dated = list(person.dates)
    for benefit in person.benefits:
        if benefit.code in ACTIVE_CODES | {"6", "7", "8"}:
            dated += benefit.dates
    for qualifier, first, last in dated:
        if qualifier in ("346", "356") or (qualifier in ("291", "307") and first != last):
            start = start or first
        if qualifier in ("347", "357") or (qualifier in ("291", "307") and first != last):
            end = end or last
    return start, end


def summarize(text: str, person: CoveredPerson, asked: list[str]) -> dict[str, Any]:
    """What the page shows of one person's 271 answer, JSON-ready."""
    asked_set = set(asked)
    lines = [b for b in person.benefits if asked_set & set(b.service_types)]

    def first(code: str) -> Any:
        # The mental-health type's amount before the plan-wide one, in network before out.
        found = [b for b in person.benefits_for(code) if asked_set & set(b.service_types)] or person.benefits_for(code)
        found.sort(key=lambda b: ("30" in b.service_types, b.in_network != "Y"))
        return found[0] if found else None

    copay, coinsurance, deductible = first("B"), first("A"), first("C")
    plan_benefit = next((b for b in person.benefits if b.code in ACTIVE_CODES and b.plan), None)
    group, plan = _group_and_plan(text, person.trace_number)
    start, end = _coverage_dates(person)
    visits = person.remaining_visits
    messages = list(dict.fromkeys(m for b in person.benefits for m in b.messages if m))
    return {
        "active": person.active,
        "coverage_from": _iso(start),
        "coverage_to": _iso(end),
        "plan_name": (plan_benefit.plan if plan_benefit else "") or plan,
        "group_number": group,
        "copay": _money(copay.amount) if copay else None,
        "coinsurance": _money(coinsurance.percent) if coinsurance else None,
        "deductible": _money(deductible.amount) if deductible else None,
        "remaining_visits": _money(visits),
        "benefits": [
            {
                "code": b.code,
                "text": b.text,
                "service_types": list(b.service_types),
                "service_text": [codes.describe(codes.SERVICE_TYPES, s) for s in b.service_types],
                "amount": _money(b.amount),
                "percent": _money(b.percent),
                "time_period": b.time_period,
                "quantity_qualifier": b.quantity_qualifier,
                "quantity": _money(b.quantity),
                "authorization_required": b.authorization_required,
                "in_network": b.in_network,
                "messages": list(b.messages),
            }
            for b in lines
        ],
        "messages": messages,
        "rejections": [
            {"reason": r.reason, "text": REJECTION_REASONS.get(r.reason, f"Code {r.reason}"), "follow_up": r.follow_up}
            for r in person.rejections
        ],
    }


def _read(text: str, trace: str) -> CoveredPerson:
    if not text.lstrip().startswith("ISA"):
        raise ValidationError({"file": "This is not an X12 file (it must start with an ISA segment)."})
    if "\x00" in text:
        # The database cannot keep it, and no X12 file holds one.
        raise ValidationError({"file": "The file holds a NUL character; X12 files are plain text."})
    try:
        response = x12.read_271(text)
    except x12.X12ReadError as exc:
        raise ValidationError({"file": f"This is not a 271 eligibility response: {exc}"}) from exc
    for person in response.people:
        if person.trace_number == trace:
            return person
    raise ValidationError({"file": "This 271 answers another inquiry: its trace number is not this check's."})


@transaction.atomic
def do_record_response(check: EligibilityCheck, text: str, *, acting_user: User | None) -> EligibilityCheck:
    """Keep the 271 answering ``check`` and what it says (ValidationError naming ``file`` for a file that is not a
    271, answers another inquiry, was imported already, or comes for a check already answered)."""
    if len(text.encode()) > MAX_BYTES:
        raise ValidationError({"file": "The file is larger than an eligibility response can be."})
    check = EligibilityCheck.objects.select_for_update().select_related("coverage__patient").get(pk=check.pk)
    digest = hashlib.sha256(text.encode()).hexdigest()
    received = X12File.objects.filter(organization=check.organization_id, direction=X12File.Direction.IN)
    if received.filter(sha256=digest).exists():
        raise ValidationError({"file": "This file was imported already; nothing was applied twice."})
    if check.status != EligibilityCheck.Status.REQUESTED:
        raise ValidationError({"file": "This check was answered already; check eligibility again for a new answer."})
    person = _read(text, check.trace_number)
    result = summarize(text, person, check.service_types)
    answered = bool(person.benefits) or not person.rejections
    file = X12File.objects.create(
        organization_id=check.organization_id,
        kind=KIND_271,
        direction=X12File.Direction.IN,
        content=text,
        sha256=digest,
        summary=("Active" if result["active"] else "Not active") if answered else "The payer could not answer",
        created_by=acting_user,
    )
    check.response_file = file
    check.result = result
    check.status = EligibilityCheck.Status.ANSWERED if answered else EligibilityCheck.Status.ERROR
    check.answered_at = timezone.now()
    check.answered_by = acting_user
    check.save(update_fields=["response_file", "result", "status", "answered_at", "answered_by", "updated_at"])
    audit.record(
        action=AuditAction.UPDATED,
        acting_user=acting_user,
        patient=check.coverage.patient,
        obj=check,
        changed_fields=["response_file", "result", "status"],
    )
    return check


@transaction.atomic
def do_apply_dates(check: EligibilityCheck, *, acting_user: User) -> list[str]:
    """Copy the 271's coverage dates onto the coverage (only when asked: the Apply dates button); the coverage's
    own action audits the change, and the check notes when it was applied."""
    check = EligibilityCheck.objects.select_for_update().select_related("coverage__patient").get(pk=check.pk)
    start, end = check.result.get("coverage_from"), check.result.get("coverage_to")
    if check.status != EligibilityCheck.Status.ANSWERED or not (start or end):
        raise ValidationError({"result": "The payer's answer gives no coverage dates to apply."})
    fields: dict[str, Any] = {}
    if start:
        fields["effective_from"] = date.fromisoformat(start)
    if end:
        fields["effective_to"] = date.fromisoformat(end)
    changed = do_update_coverage(check.coverage, acting_user=acting_user, **fields)
    check.dates_applied_at = timezone.now()
    check.save(update_fields=["dates_applied_at", "updated_at"])
    audit.record(
        action=AuditAction.UPDATED,
        acting_user=acting_user,
        patient=check.coverage.patient,
        obj=check,
        changed_fields=["dates_applied_at"],
    )
    return changed


def percent(fraction: str | None) -> str | None:
    """A 271 coinsurance (EB08, a fraction: "0.2") as people read it: "20%"."""
    return None if fraction is None else f"{(Decimal(fraction) * 100).normalize():f}%"


def _day(check: EligibilityCheck) -> str:
    return date_format(timezone.localtime(check.answered_at or check.requested_at), "M j, Y")


def headline(check: EligibilityCheck) -> str:
    """One line for the Insurance tab: "Eligible as of Dec 7, 2026: active, copay $25, 18 visits left"."""
    when = _day(check)
    if check.status == EligibilityCheck.Status.REQUESTED:
        return f"Eligibility asked {when}: waiting for the payer's 271"
    result = check.result
    if check.status == EligibilityCheck.Status.ERROR:
        reasons = "; ".join(r["text"] for r in result.get("rejections", [])) or "no reason given"
        return f"Eligibility check of {when}: the payer could not answer ({reasons})"
    if not result.get("active"):
        return f"Not eligible as of {when}: inactive"
    parts = ["active"]
    if result.get("copay") is not None:
        parts.append(f"copay ${result['copay']}")
    if result.get("coinsurance") is not None:
        parts.append(f"coinsurance {percent(result['coinsurance'])}")
    if result.get("deductible") is not None:
        parts.append(f"deductible ${result['deductible']}")
    if result.get("remaining_visits") is not None:
        parts.append(f"{result['remaining_visits']} visits left")
    return f"Eligible as of {when}: {', '.join(parts)}"


def yes_no(check: EligibilityCheck) -> str:
    """What clinicians see: covered or not, no amounts (minimum necessary)."""
    when = _day(check)
    if check.status != EligibilityCheck.Status.ANSWERED:
        return ""
    return f"Eligible as of {when}" if check.result.get("active") else f"Not eligible as of {when}"
