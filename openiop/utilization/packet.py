"""The utilization-review packet: what a payer's reviewer asks for, built from the chart for a date range.

A reviewer deciding whether to keep paying for intensive outpatient care asks for the same things every time:
diagnoses, the level of care the clinic assessed and why, attendance and dose week by week, measure scores and
whether they changed reliably, the plan's goals and how they are going, safety events, the plan in force and what
the last notes say. Staff used to copy these by hand out of five screens. ``build_packet`` gathers them in one pass
as plain JSON-ready values (the API returns them as they are; the PDF renders them), and ``disclose_packet`` is
the only way a packet leaves the clinic: it asks the consent check for every kind of information the packet holds,
for the health plan and the purpose of payment, adds the 42 CFR §2.32 notice to Part 2 records, records the
disclosure in the accounting of disclosures and writes the audit row, all in one transaction.

Nothing here writes clinical data: a packet is a view of the record at the moment it is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from openiop.attendance.dose import episode_doses
from openiop.attendance.models import AttendanceRecord
from openiop.consents.checks import Decision, Recipient, may_disclose
from openiop.consents.disclosures import record_disclosure
from openiop.consents.models import Channel, DataClass, Purpose
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.core.permissions import program_ids_for, require
from openiop.core.roles import Cap
from openiop.discharge.snapshot import goals_snapshot
from openiop.intake.models import Diagnosis, LevelOfCareRating
from openiop.measures import instruments
from openiop.measures.models import Administration, SafetyAlert
from openiop.measures.trends import panels
from openiop.notes.models import ProgressNote
from openiop.patients.models import Coverage, EpisodeOfCare
from openiop.patients.queries import get_episode_for_user
from openiop.plans.models import PlanVersion, ProgressReview
from openiop.programs import levels
from openiop.utilization.models import Authorization
from openiop.utilization.units import settle, with_usage

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.consents.models import Disclosure

# What a packet holds, as the consent check names it: every one must be covered for the health plan.
PACKET_DATA_CLASSES = (
    DataClass.DIAGNOSES,
    DataClass.ATTENDANCE,
    DataClass.MEASURES,
    DataClass.TREATMENT_PLAN,
    DataClass.PROGRESS_NOTES,
)
# The last signed notes a reviewer reads; older ones are in the chart if they ask.
NOTES_IN_PACKET = 5
# A note's summary is its clinician's conclusion (assessment or response), cut at a length a reviewer reads.
NOTE_SUMMARY_CHARS = 600
_SUMMARY_FIELDS = ("assessment", "response", "plan")
# Longest range one packet covers: a year is more than any concurrent review asks for, and bounds the work.
MAX_RANGE_DAYS = 366


# Who prepares a review for the payer: billing and utilization staff, and the clinicians who write the record.
PACKET_CAPS = (Cap.MANAGE_BILLING, Cap.EDIT_CLINICAL)


def get_packet_episode_for_user(user: User, public_id: UUID | str) -> EpisodeOfCare:
    """The episode a packet is made for: a role that prepares reviews (403), then the user's own programs (404,
    never through an emergency-access grant: a packet is a disclosure, not a read in an emergency)."""
    require(user, any_of=PACKET_CAPS)
    episode = get_episode_for_user(user, public_id, Cap.VIEW_PATIENTS)
    if episode.program_id not in program_ids_for(user):
        raise Http404
    return episode


class PacketRefused(Exception):
    """No consent lets the packet go to the health plan: ``reason`` says which and why (shown to staff)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _hours(minutes: int) -> str:
    return str((Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def check_range(episode: EpisodeOfCare, start: date | None, end: date | None) -> tuple[date, date]:
    """The dates the packet covers; ValidationError keyed by field for a range that makes no sense."""
    errors: dict[str, str] = {}
    if start is None:
        errors["start"] = "Enter the first day the packet covers."
    if end is None:
        errors["end"] = "Enter the last day the packet covers."
    if errors:
        raise ValidationError(errors)
    assert start is not None and end is not None  # narrowing for mypy: checked just above
    if end < start:
        raise ValidationError({"end": "The last day is before the first."})
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValidationError({"end": f"A packet covers at most {MAX_RANGE_DAYS} days."})
    if episode.admitted_on and end < episode.admitted_on:
        raise ValidationError({"end": "The range ends before the episode's admission."})
    return start, end


def default_range(episode: EpisodeOfCare, today: date) -> tuple[date, date]:
    """The last two weeks up to today (a usual concurrent-review window), never before admission."""
    start = today - timedelta(days=13)
    if episode.admitted_on and start < episode.admitted_on:
        start = episode.admitted_on
    return start, max(start, today)


def primary_coverage(episode: EpisodeOfCare, on: date) -> Coverage | None:
    """The health plan the packet is for: the primary coverage active on ``on`` (the newest when several are)."""
    rows = Coverage.objects.filter(patient_id=episode.patient_id, is_active=True).exclude(
        payer_kind=Coverage.PayerKind.SELF_PAY
    )
    current = [
        c
        for c in rows.order_by("priority", "-created_at")
        if (c.effective_from is None or c.effective_from <= on) and (c.effective_to is None or c.effective_to >= on)
    ]
    return current[0] if current else None


def build_packet(episode: EpisodeOfCare, *, start: date, end: date, now: datetime | None = None) -> dict[str, Any]:
    """Everything the reviewer sees, as JSON-ready values (dates as ISO strings). Reads only; audited by callers."""
    now = now or timezone.now()
    program = episode.program
    patient = episode.patient
    coverage = primary_coverage(episode, end)
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "generated_at": now.isoformat(),
        "organization": program.site.organization.name,
        "program": {
            "name": program.name,
            "site": program.site.name,
            "focus": program.get_focus_display(),
            "level_of_care": program.level_of_care,
            "level_of_care_label": levels.label(program.level_of_care),
            "weekly_dose_hours": str(program.weekly_dose_hours),
        },
        "patient": {
            "name": f"{patient.legal_first_name} {patient.legal_last_name}",
            "date_of_birth": patient.date_of_birth.isoformat() if patient.date_of_birth else None,
            "mrn": patient.mrn,
        },
        "coverage": _coverage(coverage),
        "authorizations": _authorizations(episode, start, end),
        "episode": {
            "admitted_on": episode.admitted_on.isoformat() if episode.admitted_on else None,
            "status": episode.get_status_display(),
            "days_in_care": (min(end, now.date()) - episode.admitted_on).days + 1 if episode.admitted_on else None,
        },
        "diagnoses": _diagnoses(episode),
        "level_of_care_ratings": _ratings(episode),
        "attendance": _attendance(episode, start, end, now),
        "measures": _measures(episode, end),
        "goals": goals_snapshot(episode),
        "reviews": _reviews(episode, start, end),
        "safety_events": _safety(episode, start, end),
        "plan": _plan(episode),
        "notes": _notes(episode, start, end),
    }


def _coverage(coverage: Coverage | None) -> dict[str, Any] | None:
    if coverage is None:
        return None
    return {
        "payer_name": coverage.payer_name,
        "payer_kind": coverage.get_payer_kind_display(),
        "plan_name": coverage.plan_name,
        "member_id": coverage.member_id,
        "group_number": coverage.group_number,
    }


def _authorizations(episode: EpisodeOfCare, start: date, end: date) -> list[dict[str, Any]]:
    """The episode's approved or requested authorizations overlapping the range, with units used counted live."""
    rows = Authorization.objects.filter(
        episode=episode,
        status__in=(Authorization.Status.APPROVED, Authorization.Status.REQUESTED),
        start_date__lte=end,
        end_date__gte=start,
    ).order_by("start_date", "pk")
    settle(rows)
    return [
        {
            "number": a.number,
            "status": a.get_status_display(),
            "level_of_care": a.level_of_care,
            "level_of_care_label": levels.label(a.level_of_care),
            "start_date": a.start_date.isoformat(),
            "end_date": a.end_date.isoformat(),
            "unit_kind": a.get_unit_kind_display().lower(),
            "units_authorized": a.units_authorized,
            "units_used": a.used,
        }
        for a in with_usage(rows)
    ]


def _diagnoses(episode: EpisodeOfCare) -> list[dict[str, Any]]:
    """The episode's active diagnoses, whether recorded on its intake assessment or on the episode itself."""
    rows = Diagnosis.objects.filter(is_active=True).exclude(status=Diagnosis.Status.RULED_OUT)
    rows = rows.filter(episode=episode) | rows.filter(assessment__episode=episode)
    seen: set[str] = set()
    out = []
    for d in rows.order_by("-is_primary", "code", "pk"):
        if d.code in seen:  # the same code on the assessment and on the episode is one diagnosis
            continue
        seen.add(d.code)
        out.append(
            {"code": d.code, "description": d.description, "primary": d.is_primary, "status": d.get_status_display()}
        )
    return out


def _ratings(episode: EpisodeOfCare) -> list[dict[str, Any]]:
    """Each framework's latest rating for the episode, with its dimensions as entered and the rationale."""
    rows = (
        LevelOfCareRating.objects.filter(assessment__episode=episode)
        .select_related("assessment")
        .prefetch_related("dimensions")
        .order_by("framework", "-assessment__created_at", "-pk")
    )
    latest: dict[str, LevelOfCareRating] = {}
    for rating in rows:
        latest.setdefault(rating.framework, rating)
    return [
        {
            "framework": rating.get_framework_display(),
            "level": rating.chosen_level,
            "rated_on": timezone.localdate(rating.assessment.created_at, episode.program.tz()).isoformat(),
            "dimensions": [
                {"dimension": d.dimension, "value": d.value}
                for d in sorted(rating.dimensions.all(), key=lambda d: d.dimension)
            ],
            "rationale": rating.rationale,
        }
        for rating in latest.values()
    ]


def _attendance(episode: EpisodeOfCare, start: date, end: date, now: datetime) -> dict[str, Any]:
    """Week by week (program weeks that overlap the range): the minimum, the hours scheduled and attended, met."""
    doses = episode_doses([episode], now=now)
    weeks = [w for w in (doses[0].weeks if doses else []) if w.end >= start and w.start <= end]
    rows = []
    held = attended = 0
    for week in weeks:
        for slot in week.slots:
            if slot.ends_at <= now and start <= timezone.localdate(slot.ends_at, episode.program.tz()) <= end:
                held += 1
                attended += slot.status in AttendanceRecord.ATTENDED
        rows.append(
            {
                "week_start": week.start.isoformat(),
                "minimum_hours": _hours(week.minimum),
                "scheduled_hours": _hours(week.scheduled),
                "attended_hours": _hours(week.attended),
                "met": week.met if (week.closed or week.met) else None,  # an open week has not failed yet
                "closed": week.closed,
            }
        )
    return {
        "weeks": rows,
        "sessions_held": held,
        "sessions_attended": attended,
        "attendance_rate": str((Decimal(100) * attended / held).quantize(Decimal("0.1"))) if held else None,
    }


def _measures(episode: EpisodeOfCare, end: date) -> list[dict[str, Any]]:
    """Each instrument's scores up to the range's end, with the change from the first and whether it is reliable."""
    done = (
        Administration.objects.filter(episode=episode, status=Administration.Status.COMPLETED)
        .select_related("episode__program")
        .order_by("completed_at", "pk")
    )
    kept = [a for a in done if a.when <= end]
    out = []
    for panel in panels(kept):
        instrument = panel.instrument
        if not instrument.has_total or not panel.scored:
            continue
        change = panel.change
        out.append(
            {
                "code": instrument.code,
                "name": instrument.short_name,
                "scores": [
                    {"on": a.when.isoformat(), "score": a.total, "severity": _band(instrument, a.total)}
                    for a in panel.scored
                ],
                "change": change.change if change else None,
                "reliable_change_threshold": instrument.reliable_change,
                "reliably_improved": bool(change and change.reliably_improved),
                "reliably_deteriorated": bool(change and change.reliably_deteriorated),
                "response": bool(change and change.response),
                "remission": bool(change and change.remission),
            }
        )
    return out


def _band(instrument: instruments.Instrument, total: int | None) -> str:
    band = instrument.band_for(total)
    return band.label if band is not None else ""


def _reviews(episode: EpisodeOfCare, start: date, end: date) -> list[dict[str, Any]]:
    """Plan progress reviews held in the range: the reviewer's summary is the plan's own account of progress."""
    rows = ProgressReview.objects.filter(
        plan__episode=episode, held_on__isnull=False, held_on__gte=start, held_on__lte=end
    ).order_by("held_on", "pk")
    return [
        {"held_on": r.held_on.isoformat(), "outcome": r.get_outcome_display(), "summary": r.summary}
        for r in rows
        if r.held_on is not None
    ]


def _safety(episode: EpisodeOfCare, start: date, end: date) -> list[dict[str, Any]]:
    tz = episode.program.tz()
    rows = SafetyAlert.objects.filter(episode=episode).select_related("administration").order_by("created_at", "pk")
    out = []
    for alert in rows:
        day = timezone.localdate(alert.created_at, tz)
        if not start <= day <= end:
            continue
        out.append(
            {
                "on": day.isoformat(),
                "instrument": alert.administration.instrument_code,
                "reason": alert.get_reason_display(),
                "risk": alert.risk,
                "status": alert.get_status_display(),
                "action": alert.get_resolution_action_display() if alert.resolution_action else "",
            }
        )
    return out


def _plan(episode: EpisodeOfCare) -> dict[str, Any] | None:
    try:
        plan = episode.treatment_plan
    except ObjectDoesNotExist:
        return None
    version = plan.versions.filter(status=PlanVersion.Status.ACTIVE).select_related("author").first()
    if version is None:
        return None
    tz = episode.program.tz()
    return {
        "version": version.number,
        "reason": version.get_reason_display(),
        "in_force_since": timezone.localdate(version.activated_at, tz).isoformat() if version.activated_at else None,
        "author": version.author.get_full_name(),
        "strengths": version.strengths,
        "barriers": version.barriers,
    }


def _notes(episode: EpisodeOfCare, start: date, end: date) -> list[dict[str, Any]]:
    rows = (
        ProgressNote.objects.filter(
            episode=episode, status=ProgressNote.Status.SIGNED, service_date__gte=start, service_date__lte=end
        )
        .select_related("author")
        .order_by("-service_date", "-start_time", "-created_at")[:NOTES_IN_PACKET]
    )
    out = []
    for note in rows:
        summary = next((getattr(note, f) for f in _SUMMARY_FIELDS if getattr(note, f, "").strip()), "")
        if len(summary) > NOTE_SUMMARY_CHARS:
            summary = summary[: NOTE_SUMMARY_CHARS - 1].rstrip() + "…"
        out.append(
            {
                "service_date": note.service_date.isoformat(),
                "format": note.get_format_display(),
                "kind": "group" if note.group_note_id else "individual",
                "author": ", ".join(p for p in (note.author.get_full_name(), note.author_credentials) if p),
                "summary": summary,
            }
        )
    return out


@dataclass
class Disclosed:
    packet: dict[str, Any]
    decision: Decision
    disclosure: Disclosure | None

    @property
    def notice(self) -> str:
        """The §2.32 statement that must travel with Part 2 records ('' for other records)."""
        return self.decision.redisclosure_notice


def recipients_for(episode: EpisodeOfCare, coverage: Coverage | None) -> list[Recipient]:
    """Who the packet may go to, in the order the consent check is asked: health plans under a general designation
    (a Part 2 TPO consent), then the coverage's health plan by name (a release or Part 2 consent that names it as
    an organization, which is how a mental health program's patient authorizes one plan)."""
    recipients = [Recipient.payer()]
    if coverage is not None and coverage.payer_name.strip():
        recipients.append(Recipient.provider(coverage.payer_name))
    return recipients


def _decision_for(episode: EpisodeOfCare, recipient: Recipient) -> Decision:
    decision: Decision | None = None
    for data_class in PACKET_DATA_CLASSES:
        decision = may_disclose(
            episode.patient,
            recipient=recipient,
            data_class=data_class,
            purpose=Purpose.PAYMENT,
            episode=episode,
        )
        if not decision.allowed:
            return decision
    assert decision is not None  # PACKET_DATA_CLASSES is not empty
    return decision


@dataclass
class PacketConsent:
    decision: Decision
    recipient: Recipient | None

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def reason(self) -> str:
        return self.decision.reason

    @property
    def part2(self) -> bool:
        return self.decision.part2


def consent_for_packet(episode: EpisodeOfCare, coverage: Coverage | None = None) -> PacketConsent:
    """May the packet go to the health plan for payment, covering every kind of information it holds? The first
    recipient a consent covers, or the refusal of the last one asked (its reason names the missing consent)."""
    if coverage is None:
        coverage = primary_coverage(episode, timezone.localdate(timezone.now(), episode.program.tz()))
    refusal: Decision | None = None
    for recipient in recipients_for(episode, coverage):
        decision = _decision_for(episode, recipient)
        if decision.allowed:
            return PacketConsent(decision, recipient)
        refusal = refusal or decision
    assert refusal is not None  # recipients_for always names health plans
    return PacketConsent(refusal, None)


@transaction.atomic
def disclose_packet(
    episode: EpisodeOfCare, *, acting_user: User, start: date, end: date, channel: str = Channel.PDF
) -> Disclosed:
    """Build the packet for the health plan and account for it; PacketRefused when no consent covers it."""
    start, end = check_range(episode, start, end)
    consent = consent_for_packet(episode, primary_coverage(episode, end))
    if not consent.allowed or consent.recipient is None:
        raise PacketRefused(consent.reason)
    decision = consent.decision
    packet = build_packet(episode, start=start, end=end)
    packet["redisclosure_notice"] = decision.redisclosure_notice
    coverage = packet["coverage"]
    disclosure = record_disclosure(
        episode.patient,
        recipient=consent.recipient,
        data_classes=list(PACKET_DATA_CLASSES),
        purpose=Purpose.PAYMENT,
        channel=channel,
        acting_user=acting_user,
        consent=decision.consent,
        episode=episode,
        recipient_name=coverage["payer_name"] if coverage else "",
        description=f"Utilization review packet, {start.isoformat()} to {end.isoformat()}",
    )
    audit.record(
        action=AuditAction.EXPORTED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=episode,
        object_type="utilization_review_packet",
        changed_fields=[str(channel)],
    )
    return Disclosed(packet, decision, disclosure)


def render_packet_pdf(disclosed: Disclosed, *, episode: EpisodeOfCare) -> bytes:
    """The packet as a PDF (WeasyPrint, imported when used: docs/decisions/0010-weasyprint.md)."""
    from openiop.discharge.pdf import render_pdf

    tz = episode.program.tz()
    context = {
        "packet": disclosed.packet,
        "notice": disclosed.notice,
        "printed_local": timezone.localtime(timezone.now(), tz),
    }
    return render_pdf("utilization/pdf/packet.html", context)
