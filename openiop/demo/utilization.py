"""The demo clinic's payer authorizations, so /utilization/ and the chart's Authorizations tab have something to show.

Every active episode whose primary coverage is not self-pay gets an approved authorization of its level of care from
admission (at most two months back, so last month can be claimed), entered by the billing office through
``do_create_authorization``; IOP days are three a week, so the units are the weeks covered times three, plus a
margin. A few are shaped to show the flags and the reviews, in admission order:

- the first ends in three days (flag "ending soon", and its concurrent review is due);
- the second has two units left (flag "few units left");
- the third has a step-down request the payer denied (the authorization stands as it was);
- the fourth was extended at its concurrent review (+10 days, two more weeks), approved in the same transaction;
- the fifth is still requested, its initial review pending with the payer.

Derived from the clinic by rule (no random numbers), on the build's ``today``; idempotent: an organization that
already has authorizations is left alone.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.patients.models import Coverage, EpisodeOfCare
from openiop.programs.models import Organization
from openiop.utilization.actions import do_add_review, do_create_authorization, do_update_authorization
from openiop.utilization.models import Authorization, UtilizationReview
from openiop.utilization.units import units_used

LOOKBACK_DAYS = 62  # an authorization starts at admission, or two months back (so last month is claimable)
DAYS_A_WEEK = 3  # the demo's IOP tracks meet three days a week
MARGIN = 2


def _episodes(organization: Organization) -> list[tuple[EpisodeOfCare, Coverage]]:
    """Active admitted episodes with their primary active coverage, when that is not self-pay; admission order."""
    episodes = (
        EpisodeOfCare.objects.filter(
            patient__organization=organization, status=EpisodeOfCare.Status.ACTIVE, admitted_on__isnull=False
        )
        .select_related("patient", "program__site")
        .order_by("admitted_on", "patient__mrn")
    )
    out = []
    for episode in episodes:
        coverage = (
            Coverage.objects.filter(patient=episode.patient, is_active=True).order_by("priority", "created_at").first()
        )
        if coverage is not None and coverage.payer_kind != Coverage.PayerKind.SELF_PAY:
            out.append((episode, coverage))
    return out


def _billing_user(organization: Organization) -> User | None:
    return (
        User.objects.filter(organization=organization, role=Role.BILLING, is_active=True).order_by("username").first()
    )


def ensure_demo_authorizations(organization: Organization, today: date) -> int:
    """Returns how many authorizations were made (0 when the organization already has some)."""
    if Authorization.objects.filter(episode__patient__organization=organization).exists():
        return 0
    return _build(organization, today)


def _units_for(start: date, end: date) -> int:
    weeks = ((end - start).days + 7) // 7
    return weeks * DAYS_A_WEEK + MARGIN


@transaction.atomic
def _build(organization: Organization, today: date) -> int:
    clerk = _billing_user(organization)
    made = 0
    for index, (episode, coverage) in enumerate(_episodes(organization)):
        admitted = episode.admitted_on
        assert admitted is not None  # filtered above
        start = max(admitted, today - timedelta(days=LOOKBACK_DAYS))
        end = max(start + timedelta(days=27), today + timedelta(days=10 + 7 * (index % 3)))
        status = Authorization.Status.APPROVED
        if index == 0:
            end = today + timedelta(days=3)
        elif index == 3:
            end = max(start + timedelta(days=6), today - timedelta(days=2))
        elif index == 4:
            status = Authorization.Status.REQUESTED
        auth = do_create_authorization(
            acting_user=clerk,
            episode=episode,
            coverage=coverage,
            number="" if status == Authorization.Status.REQUESTED else f"PA-{today:%y}-{4101 + 17 * index}",
            level_of_care=episode.level_of_care,
            start_date=start,
            end_date=end,
            unit_kind=Authorization.UnitKind.DAYS,
            units_authorized=_units_for(start, end),
            status=status,
        )
        made += 1
        _shape(auth, index, today, clerk)
    return made


def _shape(auth: Authorization, index: int, today: date, clerk: User | None) -> None:
    Kind, Outcome = UtilizationReview.Kind, UtilizationReview.Outcome
    if index == 1:
        do_update_authorization(auth, acting_user=clerk, units_authorized=max(units_used(auth) + 2, 3))
    elif index == 2:
        do_add_review(
            auth,
            acting_user=clerk,
            kind=Kind.STEP_DOWN,
            requested_on=today - timedelta(days=4),
            decided_on=today - timedelta(days=3),
            outcome=Outcome.DENIED,
            reviewer="Dr. M. Alvarez",
            reference="UR-58231",
            notes="Payer asked for two more weeks at this level before stepping down; requested by the clinic.",
        )
    elif index == 3:
        new_end = auth.end_date + timedelta(days=14)
        do_add_review(
            auth,
            acting_user=clerk,
            kind=Kind.CONCURRENT,
            requested_on=auth.end_date - timedelta(days=3),
            decided_on=auth.end_date - timedelta(days=1),
            outcome=Outcome.EXTENDED,
            units_granted=10,
            new_end_date=new_end,
            next_review_on=new_end - timedelta(days=3),
            reviewer="K. Osei, RN",
            reference="UR-58310",
        )
    elif index == 4:
        do_add_review(auth, acting_user=clerk, kind=Kind.INITIAL, requested_on=today - timedelta(days=1))
