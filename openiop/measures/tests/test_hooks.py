"""``safety_alert_raised``: emitted once per new alert inside the answer's transaction; plans handles it."""

from __future__ import annotations

import pytest

from openiop.measures import actions
from openiop.measures.hooks import SafetyAlertRaised, safety_alert_raised
from openiop.measures.models import Administration, SafetyAlert
from openiop.measures.schedules import CSSRS
from openiop.plans.deadlines import on_safety_alert_raised
from openiop.testing.measures import start

LINK = Administration.Channel.LINK


def test_plans_raises_the_review_from_its_registered_handler():
    assert [(r.order, r.app, r.handler) for r in safety_alert_raised.registrations] == [
        (10, "plans", on_safety_alert_raised)
    ]


def test_a_new_alert_is_emitted_once_and_an_extended_one_not_again(clinic, patient):
    a = start(patient, clinic.clinician, CSSRS)
    with safety_alert_raised.listening() as raised:
        actions.do_save_answers(a, {f"{CSSRS}_1": 1, f"{CSSRS}_2": 1}, acting_user=None, channel=LINK)
        assert raised == []  # not critical yet
        actions.do_save_answers(a, {f"{CSSRS}_3": 1}, acting_user=clinic.clinician, channel="staff")
        actions.do_save_answers(a, {f"{CSSRS}_4": 1}, acting_user=None, channel=LINK)  # extends the alert
    alert = SafetyAlert.objects.get(administration=a)
    assert raised == [SafetyAlertRaised(alert=alert, acting_user=clinic.clinician)]
    assert raised[0].alert.items == [f"{CSSRS}_3"]  # the alert as it was raised


def test_a_failing_handler_rolls_back_the_answers_and_the_alert(clinic, patient):
    a = start(patient, clinic.clinician)

    def boom(event: SafetyAlertRaised) -> None:
        raise RuntimeError("handler failed")

    with safety_alert_raised.registered(boom, order=20, app="test"), pytest.raises(RuntimeError, match="handler"):
        actions.do_save_answers(a, {"phq9_9": 3}, acting_user=None, channel=LINK)
    a.refresh_from_db()
    assert a.answers == {} and not SafetyAlert.objects.filter(administration=a).exists()
