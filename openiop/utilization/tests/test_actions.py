"""What a review's decision does to its authorization, and the checks that name the field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from openiop.core.models import AuditAction, AuditEvent
from openiop.utilization.actions import do_add_review, do_update_authorization
from openiop.utilization.models import Authorization
from openiop.utilization.tests.conftest import make_stay


def _review(auth, stay, **fields):
    values = {"kind": "initial", "requested_on": stay.ago(3), "decided_on": stay.ago(1)}
    values.update(fields)
    return do_add_review(auth, acting_user=stay.clinic.billing, **values)


def test_an_initial_approval_sets_the_units_approved_and_keeps_the_date_asked_for(stay):
    due = stay.today + timedelta(days=9)
    auth = stay.authorize(1, 14, 10, status=Authorization.Status.REQUESTED, number="", review_due_on=due)
    _review(auth, stay, outcome="partial", units_granted=6)
    auth.refresh_from_db()
    assert (auth.status, auth.units_authorized, auth.review_due_on) == ("approved", 6, due)
    row = AuditEvent.objects.get(action=AuditAction.STATUS_CHANGED, object_id=str(auth.public_id))
    assert set(row.changed_fields) == {"status", "units_authorized"}


def test_a_denied_request_is_denied_and_an_appeal_won_approves_it(stay):
    auth = stay.authorize(1, 14, 10, status=Authorization.Status.REQUESTED, number="")
    _review(auth, stay, outcome="denied")
    auth.refresh_from_db()
    assert auth.status == "denied"
    _review(auth, stay, kind="appeal", outcome="approved", units_granted=0, new_end_date=stay.today)
    auth.refresh_from_db()
    assert (auth.status, auth.units_authorized, auth.end_date) == ("approved", 10, stay.today)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"outcome": "extended"}, "units_granted"),
        ({"outcome": "denied", "units_granted": 3}, "units_granted"),
        ({"outcome": "stepped_down"}, "level_of_care"),
        ({"outcome": "stepped_down", "level_of_care": "iop"}, "level_of_care"),
        ({"outcome": "pending"}, "decided_on"),
        ({"outcome": "approved", "decided_on": None}, "decided_on"),
        ({"outcome": "denied", "next_review_on": "2027-01-01"}, "next_review_on"),
    ],
)
def test_a_review_that_does_not_add_up_names_the_field(stay, fields, field):
    auth = stay.authorize(5, 14, 10)
    with pytest.raises(ValidationError) as caught:
        _review(auth, stay, kind="concurrent", **fields)
    assert field in caught.value.message_dict
    assert not auth.reviews.exists()


def test_a_step_down_is_recorded_and_the_authorization_stays(stay):
    auth = stay.authorize(5, 14, 10)
    _review(auth, stay, kind="concurrent", outcome="stepped_down", level_of_care="op")
    auth.refresh_from_db()
    assert (auth.status, auth.units_authorized, auth.level_of_care) == ("approved", 10, "iop")


def test_an_update_names_the_field(clinic, stay):
    auth = stay.authorize(5, 14, 10)
    other = make_stay(clinic, "Other")
    for fields, field in (
        ({"end_date": stay.ago(9)}, "end_date"),
        ({"coverage": other.coverage}, "coverage"),
        ({"status": "approved", "units_authorized": 0}, "units_authorized"),
    ):
        with pytest.raises(ValidationError) as caught:
            do_update_authorization(auth, acting_user=clinic.billing, **fields)
        assert field in caught.value.message_dict
