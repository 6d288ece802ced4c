"""Intake slots: publishing them, booking one for a referral (staff or Book Now), cancelling and rescheduling.

A seat is claimed with one conditional UPDATE (``booked_count < capacity``), exactly as ``scheduling.actions.booking``
does, so however many people pick the same slot at once, ``capacity`` of them get it and the rest get
:class:`SlotTaken` with the next free slots. Lock order: referral row -> appointment unique index -> slot row ->
audit chain head. The confirmation email goes out after the commit and says when and where, never which
program or anything clinical.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.referrals.actions import audit_new_referral, new_referral, set_stage
from openiop.referrals.models import (
    SCHEDULABLE_STAGES,
    IntakeAppointment,
    IntakeSlot,
    Referral,
    hash_manage_token,
    slot_summary,
)

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.programs.models import Program, Site

NEXT_SLOTS_SHOWN = 3
MAX_SLOTS_PER_BATCH = 200
CANCEL_REASON_MAX = 200


class SlotTaken(Exception):
    """No seat left in the slot; carries the next free slots of the same program."""

    def __init__(self, slot: IntakeSlot, next_slots: list[IntakeSlot]) -> None:
        super().__init__("That time was just taken.")
        self.slot = slot
        self.next_slots = next_slots


class _Full(Exception):
    pass


def free_slots(program: Program, *, after: datetime | None = None) -> QuerySet[IntakeSlot]:
    """Published, upcoming slots of the program with a free seat, soonest first."""
    return (
        IntakeSlot.objects.filter(
            program=program,
            is_published=True,
            starts_at__gt=after or timezone.now(),
            booked_count__lt=F("capacity"),
        )
        .select_related("program", "site")
        .order_by("starts_at", "pk")
    )


def next_free_slots(slot: IntakeSlot, limit: int = NEXT_SLOTS_SHOWN) -> list[IntakeSlot]:
    return list(free_slots(slot.program).exclude(pk=slot.pk)[:limit])


def new_manage_token() -> str:
    return secrets.token_urlsafe(32)


# --- Publishing ---------------------------------------------------------------------------------------------


def _audit_slot(slot: IntakeSlot, acting_user: User | None, action: AuditAction, fields: list[str]) -> None:
    audit.record(
        action=action,
        acting_user=acting_user,
        obj=slot,
        changed_fields=fields,
        organization_id=slot.site.organization_id,
    )


def _check_slot(slot: IntakeSlot) -> None:
    errors: dict[str, str] = {}
    if slot.site.organization_id != slot.program.site.organization_id:
        errors["site"] = "Pick a site of the program's organization."
    if slot.ends_at <= slot.starts_at:
        errors["ends_at"] = "The slot must end after it starts."
    if slot.starts_at <= timezone.now():
        errors["starts_at"] = "Publish slots in the future."
    if slot.capacity < 1:
        errors["capacity"] = "A slot holds at least one person."
    if slot.assessor_id is not None and not slot.assessor.memberships.filter(program_id=slot.program_id).exists():  # type: ignore[union-attr]
        errors["assessor"] = "The assessor must be staff of this program."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_publish_slot(
    *,
    acting_user: User | None,
    program: Program,
    starts_at: datetime,
    ends_at: datetime,
    site: Site | None = None,
    assessor: User | None = None,
    capacity: int = 1,
) -> IntakeSlot:
    slot = IntakeSlot(
        program=program,
        site=site or program.site,
        starts_at=starts_at,
        ends_at=ends_at,
        assessor=assessor,
        capacity=capacity,
        created_by=acting_user,
    )
    _check_slot(slot)
    slot.save()
    _audit_slot(slot, acting_user, AuditAction.CREATED, ["program", "site", "starts_at", "ends_at", "capacity"])
    return slot


@dataclass(frozen=True)
class SlotBatch:
    created: list[IntakeSlot]
    skipped: int  # times that already had a slot of this program


@transaction.atomic
def do_publish_slots(
    *,
    acting_user: User | None,
    program: Program,
    first_day: date,
    last_day: date,
    weekdays: Iterable[int],
    times: Iterable[time],
    minutes: int,
    site: Site | None = None,
    assessor: User | None = None,
    capacity: int = 1,
) -> SlotBatch:
    """Publish a slot at each of ``times`` (program-local wall clock) on the chosen weekdays of a date range.

    A time where the program already has a published slot is skipped, so running the same batch twice adds
    nothing. Past times are skipped too (a range may start today).
    """
    days = sorted(set(weekdays))
    wall_times = sorted(set(times))
    if last_day < first_day:
        raise ValidationError({"last_day": "The range must end on or after its first day."})
    if (last_day - first_day).days > 92:
        raise ValidationError({"last_day": "Publish at most three months at a time."})
    if not days:
        raise ValidationError({"weekdays": "Pick at least one weekday."})
    if not wall_times:
        raise ValidationError({"times": "Give at least one start time."})
    if minutes < 15 or minutes > 480:
        raise ValidationError({"minutes": "A slot lasts between 15 minutes and 8 hours."})
    tz = program.tz()
    now = timezone.now()
    starts: list[datetime] = []
    day = first_day
    while day <= last_day:
        if day.weekday() in days:
            for wall in wall_times:
                start = datetime.combine(day, wall, tzinfo=tz)
                if start > now:
                    starts.append(start)
        day += timedelta(days=1)
    if len(starts) > MAX_SLOTS_PER_BATCH:
        raise ValidationError({"times": f"That is {len(starts)} slots; publish at most {MAX_SLOTS_PER_BATCH} at once."})
    taken = set(
        IntakeSlot.objects.filter(program=program, is_published=True, starts_at__in=starts).values_list(
            "starts_at", flat=True
        )
    )
    created = []
    for start in starts:
        if start in taken:
            continue
        created.append(
            do_publish_slot(
                acting_user=acting_user,
                program=program,
                site=site,
                assessor=assessor,
                capacity=capacity,
                starts_at=start,
                ends_at=start + timedelta(minutes=minutes),
            )
        )
    return SlotBatch(created=created, skipped=len(starts) - len(created))


@transaction.atomic
def do_unpublish_slot(slot: IntakeSlot, *, acting_user: User) -> IntakeSlot:
    """Take a slot off the public list; people already booked keep their appointment (staff call them)."""
    slot = IntakeSlot.objects.select_for_update().select_related("site").get(pk=slot.pk)
    if slot.is_published:
        slot.is_published = False
        slot.save(update_fields=["is_published", "updated_at"])
        _audit_slot(slot, acting_user, AuditAction.DEACTIVATED, ["is_published"])
    return slot


# --- Booking ------------------------------------------------------------------------------------------------


def _check_bookable(slot: IntakeSlot, referral: Referral) -> None:
    if not slot.is_published:
        raise ValidationError({"slot": "This time is no longer offered."})
    if slot.starts_at <= timezone.now():
        raise ValidationError({"slot": "This time has passed."})
    if slot.program.site.organization_id != referral.organization_id:
        raise ValidationError({"slot": "This time belongs to another organization."})
    if referral.program_id is not None and referral.program_id != slot.program_id:
        raise ValidationError({"slot": "Pick a time of the referral's program."})
    if referral.stage not in SCHEDULABLE_STAGES:
        stage = Referral.Stage(referral.stage).label.lower()
        raise ValidationError({"slot": f"A referral in {stage} cannot be scheduled for an assessment."})


def _claim(slot: IntakeSlot) -> None:
    claimed = IntakeSlot.objects.filter(pk=slot.pk, is_published=True, booked_count__lt=F("capacity")).update(
        booked_count=F("booked_count") + 1
    )
    if not claimed:
        raise _Full


def _release(appointment: IntakeAppointment, status: str, *, reason: str = "", now: datetime) -> bool:
    """End a booked appointment and give its seat back; False when it was not booked any more."""
    done = IntakeAppointment.objects.filter(pk=appointment.pk, status=IntakeAppointment.Status.BOOKED).update(
        status=status,
        cancelled_at=now,
        cancel_reason=reason[:CANCEL_REASON_MAX],
        manage_token_hash=None,
        updated_at=now,
    )
    if not done:
        return False
    IntakeSlot.objects.filter(pk=appointment.slot_id, booked_count__gt=0).update(booked_count=F("booked_count") - 1)
    return True


def _create_appointment(
    slot: IntakeSlot, referral: Referral, *, acting_user: User | None, source: str, token_hash: str
) -> IntakeAppointment:
    try:
        with transaction.atomic():
            return IntakeAppointment.objects.create(
                slot=slot, referral=referral, source=source, booked_by=acting_user, manage_token_hash=token_hash
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"slot": "This referral already has a booked appointment; reschedule it instead."}
        ) from exc


def _audit_appointment(
    appointment: IntakeAppointment, referral: Referral, acting_user: User | None, action: AuditAction, fields: list[str]
) -> None:
    audit.record(
        action=action,
        acting_user=acting_user,
        patient=referral.patient,
        obj=appointment,
        changed_fields=fields,
        organization_id=referral.organization_id,
    )


def _book(
    slot: IntakeSlot, referral: Referral, *, acting_user: User | None, source: str, token: str, first: bool = False
) -> IntakeAppointment:
    """Claim the seat and record the appointment, inside the caller's transaction (referral row locked).

    The appointment's audit row is written here unless ``first`` (the caller writes it after its own rows).
    """
    current = IntakeSlot.objects.select_related("program__site", "site").get(pk=slot.pk)
    _check_bookable(current, referral)
    appointment = _create_appointment(
        current, referral, acting_user=acting_user, source=source, token_hash=hash_manage_token(token)
    )
    _claim(current)
    if referral.program_id is None:
        referral.program = current.program
        referral.save(update_fields=["program", "updated_at"])
    if referral.stage != Referral.Stage.SCHEDULED:
        set_stage(referral, Referral.Stage.SCHEDULED, acting_user=acting_user, reason="Intake slot booked")
    if not first:
        _audit_booked(appointment, referral, acting_user)
    return appointment


def _audit_booked(appointment: IntakeAppointment, referral: Referral, acting_user: User | None) -> None:
    _audit_appointment(
        appointment, referral, acting_user, AuditAction.CREATED, ["slot", "referral", "status", "source"]
    )


def do_book_intake(
    slot: IntakeSlot,
    *,
    referral: Referral,
    acting_user: User | None,
    source: str = IntakeAppointment.Source.STAFF,
    send_email: bool = True,
) -> tuple[IntakeAppointment, str]:
    """Book the referral into the slot; returns the appointment and the secret for its manage link.

    Raises ValidationError (naming the field) when it cannot be booked, SlotTaken when no seat is left.
    """
    token = new_manage_token()
    try:
        with transaction.atomic():
            locked = (
                Referral.objects.select_for_update(of=("self",))
                .select_related("organization", "patient")
                .get(pk=referral.pk)
            )
            appointment = _book(slot, locked, acting_user=acting_user, source=source, token=token)
            if send_email and locked.email:
                _email_on_commit(appointment.pk, token, "booked")
    except _Full:
        raise SlotTaken(slot, next_free_slots(slot)) from None
    referral.refresh_from_db()
    return appointment, token


@dataclass(frozen=True)
class BookNowResult:
    referral: Referral
    appointment: IntakeAppointment
    token: str


def do_book_now(
    slot: IntakeSlot, *, details: dict[str, Any], prescreen: dict[str, Any], prescreen_result: str
) -> BookNowResult:
    """The public Book Now submission: the referral, its appointment and the email, or nothing at all.

    When the slot was just taken the whole transaction rolls back (no referral is kept) and SlotTaken carries
    the next free slots to offer.
    """
    token = new_manage_token()
    program = slot.program
    try:
        with transaction.atomic():
            fields = {
                "source": Referral.Source.BOOK_NOW,
                "program": program,
                "prescreen": prescreen,
                "prescreen_result": prescreen_result,
                **details,
            }
            referral = new_referral(
                acting_user=None, organization=program.site.organization, stage=Referral.Stage.SCREENING, **fields
            )
            appointment = _book(
                slot, referral, acting_user=None, source=IntakeAppointment.Source.BOOK_NOW, token=token, first=True
            )
            audit_new_referral(referral, None, fields)
            _audit_booked(appointment, referral, None)
            if referral.email:
                _email_on_commit(appointment.pk, token, "booked")
    except _Full:
        raise SlotTaken(slot, next_free_slots(slot)) from None
    return BookNowResult(referral=referral, appointment=appointment, token=token)


# --- Cancelling and rescheduling -----------------------------------------------------------------------------


def _locked_appointment(appointment: IntakeAppointment) -> tuple[Referral, IntakeAppointment]:
    referral = (
        Referral.objects.select_for_update(of=("self",)).select_related("patient").get(pk=appointment.referral_id)
    )
    current = IntakeAppointment.objects.select_related("slot__program", "slot__site").get(pk=appointment.pk)
    return referral, current


@transaction.atomic
def do_cancel_intake(
    appointment: IntakeAppointment, *, acting_user: User | None, reason: str = ""
) -> IntakeAppointment:
    """Cancel a booked appointment and free its seat; the referral goes back to screening for a follow-up call."""
    reason = (reason or "").strip()
    if len(reason) > CANCEL_REASON_MAX:
        raise ValidationError({"reason": "Keep the reason under 200 characters."})
    referral, current = _locked_appointment(appointment)
    if _release(current, IntakeAppointment.Status.CANCELLED, reason=reason, now=timezone.now()):
        if referral.stage == Referral.Stage.SCHEDULED:
            set_stage(
                referral, Referral.Stage.SCREENING, acting_user=acting_user, reason="Intake appointment cancelled"
            )
        _audit_appointment(
            current, referral, acting_user, AuditAction.STATUS_CHANGED, ["status", "cancelled_at", "cancel_reason"]
        )
    current.refresh_from_db()
    return current


def do_reschedule_intake(
    appointment: IntakeAppointment, new_slot: IntakeSlot, *, acting_user: User | None, token: str | None = None
) -> tuple[IntakeAppointment, str]:
    """Move a booked appointment to another slot: the new seat is claimed first, then the old one is freed.

    ``token`` is the secret of the link the person used (Book Now keeps its link working); staff get a new one,
    emailed to the person. SlotTaken leaves the old appointment as it was.
    """
    new_token = token or new_manage_token()
    try:
        with transaction.atomic():
            referral, current = _locked_appointment(appointment)
            if current.status != IntakeAppointment.Status.BOOKED:
                raise ValidationError({"slot": "This appointment is no longer booked; book a new time instead."})
            if current.slot_id == new_slot.pk:
                raise ValidationError({"slot": "That is the time already booked."})
            # Both slot rows in id order, so two reschedules crossing each other never wait in a cycle.
            list(IntakeSlot.objects.select_for_update().filter(pk__in=[current.slot_id, new_slot.pk]).order_by("pk"))
            now = timezone.now()
            # Free the old row's token and the one-booked-per-referral index first, then claim the new seat.
            _release(current, IntakeAppointment.Status.RESCHEDULED, reason="Rescheduled", now=now)
            moved = _book(new_slot, referral, acting_user=acting_user, source=current.source, token=new_token)
            IntakeAppointment.objects.filter(pk=current.pk).update(rescheduled_to=moved)
            _audit_appointment(current, referral, acting_user, AuditAction.STATUS_CHANGED, ["status", "rescheduled_to"])
            if referral.email:
                _email_on_commit(moved.pk, new_token, "rescheduled")
    except _Full:
        raise SlotTaken(new_slot, next_free_slots(new_slot)) from None
    return moved, new_token


@transaction.atomic
def do_mark_appointment(appointment: IntakeAppointment, *, acting_user: User, status: str) -> IntakeAppointment:
    """Record that the person came (attended) or did not (no-show); a no-show sends the referral back to screening."""
    if status not in (IntakeAppointment.Status.ATTENDED, IntakeAppointment.Status.NO_SHOW):
        raise ValidationError({"status": "Mark the appointment attended or no-show."})
    referral, current = _locked_appointment(appointment)
    if current.status != IntakeAppointment.Status.BOOKED:
        raise ValidationError({"status": "Only a booked appointment can be marked."})
    if status == IntakeAppointment.Status.ATTENDED and current.slot.starts_at > timezone.now():
        raise ValidationError({"status": "The appointment has not started yet."})
    # The seat stays counted: the time was used (or lost), it is not free for someone else.
    IntakeAppointment.objects.filter(pk=current.pk).update(
        status=status, manage_token_hash=None, updated_at=timezone.now()
    )
    if status == IntakeAppointment.Status.NO_SHOW and referral.stage == Referral.Stage.SCHEDULED:
        set_stage(
            referral, Referral.Stage.SCREENING, acting_user=acting_user, reason="No-show at the intake appointment"
        )
    _audit_appointment(current, referral, acting_user, AuditAction.STATUS_CHANGED, ["status"])
    current.refresh_from_db()
    return current


def finish_booked_appointment(referral: Referral, *, acting_user: User | None) -> None:
    """The assessment is recorded, so the booked appointment (if any) was attended; in the caller's transaction."""
    current = referral.appointments.filter(status=IntakeAppointment.Status.BOOKED).first()
    if current is not None:
        IntakeAppointment.objects.filter(pk=current.pk).update(
            status=IntakeAppointment.Status.ATTENDED, manage_token_hash=None, updated_at=timezone.now()
        )
        _audit_appointment(current, referral, acting_user, AuditAction.STATUS_CHANGED, ["status"])


def find_by_token(token: str) -> IntakeAppointment | None:
    """The booked appointment a manage link points to; unknown, used-up and cancelled links all give None."""
    if not token or len(token) > 100:
        return None
    return (
        IntakeAppointment.objects.select_related("slot__program__site__organization", "slot__site", "referral")
        .filter(manage_token_hash=hash_manage_token(token), status=IntakeAppointment.Status.BOOKED)
        .first()
    )


# --- Email --------------------------------------------------------------------------------------------------


def manage_url(token: str) -> str:
    return f"{settings.SITE_URL}{reverse('book:manage', args=[token])}"


def _email_on_commit(appointment_id: int, token: str, kind: str) -> None:
    transaction.on_commit(lambda: send_confirmation(appointment_id, token, kind))


def send_confirmation(appointment_id: int, token: str, kind: str = "booked") -> None:
    """Email the person when and where, with the link to cancel or reschedule. No program, nothing clinical:
    an inbox can be read by others, and even a program's name can say "substance use"."""
    appointment = IntakeAppointment.objects.select_related(
        "slot__site", "slot__program__site__organization", "referral"
    ).get(pk=appointment_id)
    organization = appointment.slot.program.site.organization
    context = {
        **slot_summary(appointment.slot),
        "first_name": appointment.referral.first_name,
        "organization": organization,
        "manage_url": manage_url(token),
        "kind": kind,
    }
    subject = f"Your appointment with {organization.name}"
    if kind == "rescheduled":
        subject = f"Your appointment with {organization.name} has moved"
    body = render_to_string("referrals/email/confirmation.txt", context)
    send_mail(subject, body, None, [appointment.referral.email], fail_silently=False)
