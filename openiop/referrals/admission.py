"""Admission: an assessed referral becomes an active episode with its first due dates on the work queue.

One transaction: the episode is opened (or a waitlisted one activated) through the patients actions, the track
enrolled through scheduling, the referral moved to "admitted", and the tasks raised through the worklist action
(idempotent on its trigger key, so a retried admission raises nothing twice): the treatment plan due in
``treatment_plan_due_days``, the first measures due at admission, Medicare certification due at admission when
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
from openiop.patients.actions import do_change_episode_status, do_open_episode, do_update_episode
from openiop.patients.models import Coverage, EpisodeOfCare
from openiop.referrals.actions import set_stage
from openiop.referrals.models import ADMITTABLE_STAGES, Referral
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.worklist.actions import do_raise_task
from openiop.worklist.models import WorkTask

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.programs.models import Program, Track


def plan_due_days() -> int:
    return int(settings.OPENIOP_DEFAULTS.get("treatment_plan_due_days", 7))


def readmission_window_days() -> int:
    return int(settings.OPENIOP_DEFAULTS.get("readmission_window_days", 30))


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
        do_enroll(episode, acting_user=acting_user, track=track, starts_on=max(admitted_on, program.now().date()))

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
