"""The daily job: each task raised once, closed as not needed when its condition clears, a new cycle a new task."""

from __future__ import annotations

from datetime import timedelta

from openiop.billing.actions import do_create_payer_setting
from openiop.billing.models import BillableDay
from openiop.jobs.periodic import DEFAULT_JOBS
from openiop.patients.actions import do_create_payer
from openiop.patients.models import Payer
from openiop.utilization.actions import do_add_review
from openiop.utilization.flags import unauthorized_days
from openiop.utilization.jobs import raise_authorization_flags
from openiop.utilization.tests.conftest import make_stay
from openiop.worklist.models import WorkTask

Kind = WorkTask.Kind


def _open(kind: str) -> list[WorkTask]:
    return list(WorkTask.objects.filter(kind=kind, status=WorkTask.Status.OPEN))


def test_the_job_is_a_daily_periodic_job():
    (job,) = [j for j in DEFAULT_JOBS if j.name == "utilization_flags"]
    assert job.daily and job.path == "openiop.utilization.jobs.raise_authorization_flags"


def test_raises_each_task_once_and_closes_them_when_an_extension_clears_them(stay):
    stay.day(3)
    stay.day(2)
    # Ends in 5 days (expiring), 2 of 4 units left (low), the review due 3 days before the end (in 2 days).
    auth = stay.authorize(start_ago=5, end_ahead=5, units=4)
    assert raise_authorization_flags() == {"flagged": 3, "raised": 3, "reopened": 0, "closed": 0}
    for kind in (Kind.AUTH_EXPIRING, Kind.AUTH_UNITS_LOW, Kind.UR_DUE):
        (task,) = _open(kind)
        assert task.episode == stay.episode and task.assigned_to == stay.clinic.clinician
        assert stay.episode.patient.legal_last_name not in task.reason
    assert raise_authorization_flags()["raised"] == 0  # the next day's run raises nothing again
    assert WorkTask.objects.filter(kind__in=[Kind.AUTH_EXPIRING, Kind.AUTH_UNITS_LOW, Kind.UR_DUE]).count() == 3

    do_add_review(
        auth,
        acting_user=stay.clinic.billing,
        kind="concurrent",
        requested_on=stay.ago(1),
        outcome="extended",
        decided_on=stay.today,
        units_granted=10,
        new_end_date=stay.today + timedelta(days=30),
        next_review_on=stay.today + timedelta(days=20),
    )
    assert raise_authorization_flags() == {"flagged": 0, "raised": 0, "reopened": 0, "closed": 3}
    closed = WorkTask.objects.filter(kind__in=[Kind.AUTH_EXPIRING, Kind.AUTH_UNITS_LOW, Kind.UR_DUE])
    assert {t.outcome for t in closed} == {WorkTask.Outcome.NOT_NEEDED}


def test_a_condition_that_comes_back_in_its_cycle_reopens_its_task(stay):
    sessions = stay.day(3)
    stay.day(2)
    stay.authorize(start_ago=5, end_ahead=40, units=5, review_due_on=stay.today + timedelta(days=30))
    assert raise_authorization_flags()["raised"] == 1  # 3 of 5 left
    stay.correct(sessions[0], "absent_unexcused")  # 4 left: no longer low, decided by the job's own read
    assert raise_authorization_flags()["closed"] == 1
    stay.correct(sessions[0], "present")
    assert raise_authorization_flags()["reopened"] == 1
    assert len(_open(Kind.AUTH_UNITS_LOW)) == 1


def test_billable_days_without_an_approved_authorization(clinic, stay):
    stay.authorize(start_ago=5, end_ahead=40, units=20, review_due_on=stay.today + timedelta(days=30))
    uncovered = make_stay(clinic, "Blake")
    uncovered.day(4)
    uncovered.day(2)
    self_pay = make_stay(clinic, "Casey", payer_kind="self_pay")
    self_pay.day(2)
    assert raise_authorization_flags()["raised"] == 1
    (task,) = _open(Kind.DAYS_UNAUTHORIZED)
    assert task.episode == uncovered.episode and task.reason.startswith("2 billable days without")
    assert raise_authorization_flags()["raised"] == 0

    # An authorization (ended) covering only the first day: the key's first day moves, so the old task closes.
    uncovered.authorize(start_ago=5, end_ahead=-3, units=1)
    result = raise_authorization_flags()
    assert (result["raised"], result["closed"]) == (1, 1)
    assert _open(Kind.DAYS_UNAUTHORIZED)[0].reason.startswith("1 billable day without")
    uncovered.authorize(start_ago=2, end_ahead=20, units=10, number="B", review_due_on=stay.today + timedelta(days=30))
    result = raise_authorization_flags()
    assert (result["raised"], result["closed"]) == (0, 1)
    assert _open(Kind.DAYS_UNAUTHORIZED) == []


def test_an_organization_without_any_authorization_gets_no_unauthorized_tasks(clinic, payer_rule):
    make_stay(clinic, "Drew").day(2)
    assert raise_authorization_flags()["raised"] == 0


def _payer(clinic, kind: str, *, authorization_required: bool | None, program=None) -> Payer:
    """A payer of ``kind``; with a setting for the MH program (or ``program``) unless ``authorization_required`` is
    None."""
    filing = {"medicare": "MA", "commercial": "CI"}[kind]
    payer = do_create_payer(
        acting_user=None, organization=clinic.org, name=f"{kind.title()} plan", payer_id=f"{kind.upper()[:5]}1",
        kind=kind, claim_filing_indicator=filing,
    )  # fmt: skip
    if authorization_required is not None:
        do_create_payer_setting(
            acting_user=None, payer=payer, program=program or clinic.mh, claim_type="837I", type_of_bill="076",
            revenue_code="0905", code_standard="S9480", authorization_required=authorization_required,
        )  # fmt: skip
    return payer


def test_a_payer_setting_without_authorization_raises_no_task_where_the_fallback_would(clinic, stay):
    # The organization uses authorizations (the fallback would flag every non-self-pay day) ...
    stay.authorize(start_ago=5, end_ahead=40, units=20, review_due_on=stay.today + timedelta(days=30))
    medicare = make_stay(clinic, "Emery", payer=_payer(clinic, "medicare", authorization_required=False))
    medicare.day(2)
    # ... but Medicare's setting for the program says it needs none (it certifies instead).
    assert raise_authorization_flags()["raised"] == 0
    assert _open(Kind.DAYS_UNAUTHORIZED) == []


def test_a_payer_setting_requiring_authorization_raises_a_task_where_the_fallback_would_not(clinic, payer_rule):
    # No authorization recorded anywhere: the fallback stays quiet, the payer's own setting does not.
    commercial = make_stay(clinic, "Finley", payer=_payer(clinic, "commercial", authorization_required=True))
    commercial.day(2)
    assert raise_authorization_flags()["raised"] == 1
    (task,) = _open(Kind.DAYS_UNAUTHORIZED)
    assert task.episode == commercial.episode
    commercial.authorize(start_ago=3, end_ahead=20, units=10, review_due_on=commercial.today + timedelta(days=30))
    assert raise_authorization_flags()["closed"] == 1


def test_a_payer_without_a_setting_for_the_program_falls_back(clinic, stay):
    stay.authorize(start_ago=5, end_ahead=40, units=20, review_due_on=stay.today + timedelta(days=30))
    # Medicare's setting is for another program (and says no): this program's days take the fallback, and are flagged.
    payer = _payer(clinic, "medicare", authorization_required=False, program=clinic.su)
    other = make_stay(clinic, "Gray", payer=payer)
    other.day(2)
    assert raise_authorization_flags()["raised"] == 1
    assert _open(Kind.DAYS_UNAUTHORIZED)[0].episode == other.episode


def test_which_days_need_an_authorization_is_one_query_for_any_list(clinic, stay, django_assert_num_queries):
    stay.day(3)
    stay.authorize(start_ago=2, end_ahead=40, units=20, review_due_on=stay.today + timedelta(days=30))
    make_stay(clinic, "Harper", payer=_payer(clinic, "medicare", authorization_required=False)).day(2)
    commercial = make_stay(clinic, "Indigo", payer=_payer(clinic, "commercial", authorization_required=True))
    commercial.day(2)
    with django_assert_num_queries(1):
        days = list(unauthorized_days(BillableDay.objects.all()))
    # The fallback's day (no payer on the coverage, 3 days ago, before the authorization) and the commercial one.
    assert sorted(d.episode_id for d in days) == sorted([stay.episode.pk, commercial.episode.pk])
