"""Admission: an assessed referral becomes an active episode with its first due dates on the work queue.

One transaction: the episode is opened (or a waitlisted one activated) through the patients actions; the track
enrolled through scheduling with the track's open group that has the most free seats, its sessions booked to the
horizon (an admission that would book nothing is refused with the reason, and nothing is written); what the
referral told us carried onto the record (``carry_into_record``); a readmission within the window linked to the
episode it follows (``EpisodeReadmitted``); the referral moved to "admitted"; and the tasks raised through the
worklist action (idempotent on its trigger key, so a retried admission raises nothing twice): the treatment plan due
in ``treatment_plan_due_days``, the first measures due at admission, Medicare certification due at admission when
Medicare is the primary payer, and a readmission review when the patient left an episode within
``readmission_window_days``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.billing.rules import payer_kind_on
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.patients.actions import (
    do_change_episode_status,
    do_link_readmission,
    do_open_episode,
    do_update_episode,
)
from openiop.patients.models import Coverage, EpisodeOfCare, readmission_window_days
from openiop.referrals.actions import carry_into_record, set_stage
from openiop.referrals.models import ADMITTABLE_STAGES, Referral
from openiop.scheduling.actions.enrollment import do_enroll, track_label
from openiop.scheduling.models import Booking, Group
from openiop.scheduling.placement import groups_for_admission
from openiop.worklist.actions import do_raise_task
from openiop.worklist.models import WorkTask

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.programs.models import Program, Track


def plan_due_days() -> int:
    return int(settings.OPENIOP_DEFAULTS.get("treatment_plan_due_days", 7))


def recent_discharge(patient_id: int, admitted_on: date) -> EpisodeOfCare | None:
    """The patient's latest episode discharged within the readmission window before ``admitted_on``."""
    since = admitted_on - timedelta(days=readmission_window_days())
    return (
        EpisodeOfCare.objects.filter(
            patient_id=patient_id,
            status=EpisodeOfCare.Status.DISCHARGED,
            discharged_on__gte=since,
            discharged_on__lte=admitted_on,
        )
        .order_by("-discharged_on", "-pk")
        .first()
    )


def _open(
    referral: Referral,
    *,
    acting_user: User,
    program: Program,
    track: Track | None,
    primary_clinician: User,
    admitted_on: date,
    expected_discharge_on: date | None,
) -> EpisodeOfCare:
    patient = referral.patient
    assert patient is not None
    waiting = EpisodeOfCare.objects.filter(
        patient=patient, program=program, status=EpisodeOfCare.Status.WAITLIST
    ).first()
    if waiting is None:
        return do_open_episode(
            patient,
            acting_user=acting_user,
            program=program,
            status=EpisodeOfCare.Status.ACTIVE,
            track=track,
            admitted_on=admitted_on,
            expected_discharge_on=expected_discharge_on,
            primary_clinician=primary_clinician,
        )
    # On the program's waitlist already (waitlisted after assessment): admit that episode, keep its history.
    episode = do_change_episode_status(
        waiting, acting_user=acting_user, status=EpisodeOfCare.Status.ACTIVE, on_date=admitted_on
    )
    changes: dict[str, object] = {"track": track, "primary_clinician": primary_clinician}
    if expected_discharge_on is not None:
        changes["expected_discharge_on"] = expected_discharge_on
    do_update_episode(episode, acting_user=acting_user, **changes)
    return episode


def _enroll_with_sessions(episode: EpisodeOfCare, *, acting_user: User, track: Track, starts_on: date) -> None:
    """Enroll in the track and a group of it with a seat, booking the sessions to the horizon; refuse (rolling the
    whole admission back) rather than admit someone with nothing on their schedule."""
    groups, seat = groups_for_admission(episode, track)
    label = track_label(track)
    if not seat:
        raise ValidationError(
            {"track": f"No group in the {label} has a free seat: add the patient to the waitlist or open a group."}
        )
    result = do_enroll(episode, acting_user=acting_user, track=track, groups=groups, starts_on=starts_on)
    if not result.booked:
        if result.full:
            reason = f"Every upcoming session of the {label} is full"
        else:
            reason = f"The {label} has no sessions scheduled before the expected discharge"
        raise ValidationError({"track": f"{reason}: add the patient to the waitlist or schedule sessions."})


def admission_summary(episode: EpisodeOfCare) -> tuple[int, list[str]]:
    """How many upcoming sessions the episode is booked into, and the names of its current groups (for the
    confirmation)."""
    booked = Booking.objects.filter(
        episode=episode, status=Booking.Status.BOOKED, session__starts_at__gte=timezone.now()
    ).count()
    names = list(
        Group.objects.filter(enrollments__episode=episode, enrollments__ends_on__isnull=True)
        .order_by("name")
        .values_list("name", flat=True)
    )
    return booked, names


def admission_message(episode: EpisodeOfCare) -> str:
    """The confirmation after admitting: what was booked, where, and whether this is a readmission."""
    booked, groups = admission_summary(episode)
    parts = ["Admitted."]
    if episode.track_id is not None:
        where = f" in {', '.join(groups)}" if groups else ""
        parts.append(f"Booked {booked} session{'s' if booked != 1 else ''}{where}.")
    else:
        parts.append("No track yet, so no sessions are booked.")
    previous = episode.previous_episode
    if previous is not None and previous.discharged_on is not None and episode.admitted_on is not None:
        days = (episode.admitted_on - previous.discharged_on).days
        parts.append(f"Readmission within {readmission_window_days()} days ({days} days after the last discharge).")
    parts.append("The treatment plan and first measures are on the work queue.")
    return " ".join(parts)


def _raise(episode: EpisodeOfCare, acting_user: User, kind: str, due_on: date, reason: str) -> None:
    do_raise_task(
        acting_user=acting_user,
        episode=episode,
        kind=kind,
        trigger_key=f"{kind}:{episode.public_id}",
        reason=reason,
        due_on=due_on,
    )


@transaction.atomic
def do_admit(
    referral: Referral,
    *,
    acting_user: User,
    program: Program,
    track: Track | None,
    primary_clinician: User,
    admitted_on: date,
    expected_discharge_on: date | None = None,
) -> EpisodeOfCare:
    """Admit the referred person: episode, enrollment, referral stage and the first due dates, all or nothing."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.stage not in ADMITTABLE_STAGES:
        stage = Referral.Stage(referral.stage).label.lower()
        raise ValidationError({"stage": f"A referral in {stage} cannot be admitted; it must be assessed first."})
    if referral.patient_id is None:
        raise ValidationError({"patient": "Start intake first: link or register the patient record."})
    if program.site.organization_id != referral.organization_id:
        raise ValidationError({"program": "Pick one of this organization's programs."})
    if track is not None and track.program_id != program.pk:
        raise ValidationError({"track": "Pick a track of the chosen program."})
    if admitted_on > program.now().date() + timedelta(days=30):
        raise ValidationError({"admitted_on": "Admit at most 30 days ahead."})
    readmitted_from = recent_discharge(referral.patient_id, admitted_on)
    # The referral may have been completed after the record was linked; carrying over is idempotent.
    carry_into_record(referral, referral.patient, acting_user=acting_user)  # type: ignore[arg-type]
    episode = _open(
        referral,
        acting_user=acting_user,
        program=program,
        track=track,
        primary_clinician=primary_clinician,
        admitted_on=admitted_on,
        expected_discharge_on=expected_discharge_on,
    )
    if track is not None:
        _enroll_with_sessions(
            episode, acting_user=acting_user, track=track, starts_on=max(admitted_on, program.now().date())
        )
    if readmitted_from is not None:
        do_link_readmission(episode, acting_user=acting_user, previous=readmitted_from, on_date=admitted_on)

    set_stage(referral, Referral.Stage.ADMITTED, acting_user=acting_user, reason="Admitted")
    referral.program = program
    referral.episode = episode
    referral.admitted_at = timezone.now()
    referral.is_readmission = readmitted_from is not None
    referral.save(update_fields=["program", "episode", "admitted_at", "is_readmission", "updated_at"])
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=referral.patient,
        obj=referral,
        changed_fields=["stage", "episode", "admitted_at", "program", "is_readmission"],
    )

    _raise(
        episode,
        acting_user,
        WorkTask.Kind.PLAN_DUE,
        admitted_on + timedelta(days=plan_due_days()),
        f"Treatment plan due within {plan_due_days()} days of admission",
    )
    _raise(episode, acting_user, WorkTask.Kind.FIRST_MEASURES, admitted_on, "First measures due at admission")
    if payer_kind_on(episode, admitted_on) == Coverage.PayerKind.MEDICARE:
        _raise(
            episode,
            acting_user,
            WorkTask.Kind.CERTIFICATION_DUE,
            admitted_on,
            "Medicare: physician certification of the IOP need is due at admission",
        )
    if readmitted_from is not None:
        _raise(
            episode,
            acting_user,
            WorkTask.Kind.READMISSION_REVIEW,
            admitted_on,
            f"Readmitted {(admitted_on - readmitted_from.discharged_on).days} days after a discharge",  # type: ignore[operator]
        )
    return episode
