"""Orders, collections, results and reviews: validation naming the field, the interpretation against the medication
list, and an unexpected result's work-queue task raised in the same transaction, with the chart flag until review."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.labs import actions
from openiop.labs.actions import ResultIn
from openiop.labs.models import Result, TestOrder
from openiop.labs.tests.support import collected, su_episode, take
from openiop.worklist.models import WorkTask


def test_an_order_copies_the_panel_and_a_breathalyzer_reads_breath_alcohol_only(clinic):
    episode = su_episode(clinic)
    cup = actions.do_order_test(episode, acting_user=clinic.director, kind="cup", reason="clinical",
                                due_on=timezone.localdate())  # fmt: skip
    assert "FTY" in cup.analytes and "BAC" not in cup.analytes and len(cup.analytes) == 10
    actions.do_set_panel(clinic.su, acting_user=clinic.director, codes=["BUP", "FTY"])
    assert actions.do_order_test(episode, acting_user=None, kind="lab", reason="scheduled",
                                 due_on=timezone.localdate()).analytes == ["BUP", "FTY"]  # fmt: skip
    assert actions.do_order_test(episode, acting_user=None, kind="breath", reason="clinical",
                                 due_on=timezone.localdate()).analytes == ["BAC"]  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        actions.do_set_panel(clinic.su, acting_user=clinic.director, codes=["XYZ"])
    assert "analytes" in caught.value.message_dict


def test_bad_order_and_collection_input_names_the_field(clinic):
    episode = su_episode(clinic)
    with pytest.raises(ValidationError) as caught:
        actions.do_order_test(episode, acting_user=None, kind="sniff", reason="whim", due_on=None)  # type: ignore[arg-type]
    assert set(caught.value.message_dict) == {"kind", "reason", "due_on"}
    order = actions.do_order_test(episode, acting_user=None, kind="cup", reason="random", due_on=timezone.localdate())
    with pytest.raises(ValidationError) as caught:
        actions.do_record_collection(order, acting_user=clinic.director, collected_at=None, ph="maybe")
    assert set(caught.value.message_dict) == {"collected_at", "specimen_id", "ph"}
    collected(episode, "S-1")
    with pytest.raises(ValidationError) as caught:
        actions.do_record_collection(order, acting_user=clinic.director, collected_at=timezone.now(), specimen_id="S-1")
    assert "specimen_id" in caught.value.message_dict
    refused = actions.do_record_collection(order, acting_user=clinic.director, collected_at=timezone.now(),
                                           outcome="refused")  # fmt: skip
    order.refresh_from_db()
    assert refused.specimen_id == "" and order.status == TestOrder.Status.REFUSED


def test_expected_results_raise_nothing(clinic):
    episode = su_episode(clinic)
    take(episode, "buprenorphine-naloxone-film")
    order = collected(episode)
    rows = actions.do_enter_results(order, acting_user=clinic.director,
                                    results=[ResultIn("BUP", "positive"), ResultIn("FTY", "negative")])  # fmt: skip
    assert [r.interpretation for r in rows] == ["expected", "expected"]
    assert not WorkTask.objects.filter(patient=episode.patient).exists()


def test_an_unexpected_result_raises_the_clinicians_task_naming_no_substance(clinic):
    episode = su_episode(clinic)
    take(episode, "buprenorphine-naloxone-film")
    order = collected(episode)
    rows = actions.do_enter_results(order, acting_user=clinic.director, results=[
        ResultIn("BUP", "positive"), ResultIn("FTY", "positive", value="12.5", cutoff="1", units="ng/mL")])  # fmt: skip
    assert {r.analyte: r.interpretation for r in rows} == {"BUP": "expected", "FTY": "unexpected"}
    task = WorkTask.objects.get(patient=episode.patient)
    assert task.kind == WorkTask.Kind.DRUG_TEST_REVIEW and task.assigned_to == episode.primary_clinician
    assert task.due_on == timezone.localdate() and "result to review" in task.reason
    for word in ("fentanyl", "FTY", "positive", "unexpected", "buprenorphine"):
        assert word.lower() not in task.reason.lower()
    audit = AuditEvent.objects.filter(patient=episode.patient, object_type="drug_test_result").get()
    assert audit.action == AuditAction.CREATED and "interpretation" in audit.changed_fields


def test_the_task_is_raised_in_the_same_transaction_so_a_failure_leaves_no_result(clinic):
    episode = su_episode(clinic)
    order = collected(episode)
    # The task's own audit row fails after the results were written: all of it rolls back together.
    with (
        mock.patch("openiop.worklist.actions.audit.record", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        actions.do_enter_results(order, acting_user=clinic.director, results=[ResultIn("COC", "positive")])
    assert not Result.objects.filter(order=order).exists()
    assert not WorkTask.objects.filter(patient=episode.patient).exists()
    order.refresh_from_db()
    assert order.status == TestOrder.Status.COLLECTED


def test_results_are_read_against_the_medication_list_on_the_day_of_collection(clinic):
    episode = su_episode(clinic)
    take(episode, "methadone-otp", stop_date=timezone.localdate() - timedelta(days=1))  # stopped yesterday
    order = collected(episode)
    [row] = actions.do_enter_results(order, acting_user=clinic.director, results=[ResultIn("MTD", "positive")])
    assert row.interpretation == "unexpected"


def test_bad_results_name_the_field_and_save_nothing(clinic):
    episode = su_episode(clinic)
    order = collected(episode)
    with pytest.raises(ValidationError) as caught:
        actions.do_enter_results(order, acting_user=clinic.director, results=[
            ResultIn("BUP", "negative"), ResultIn("BAC", "positive"), ResultIn("BUP", "negative"),
            ResultIn("THC", "sure", value="lots")])  # fmt: skip
    assert set(caught.value.message_dict) == {"results[1].analyte", "results[2].analyte", "results[3].outcome",
                                              "results[3].value"}  # fmt: skip
    assert not Result.objects.exists()
    pending = actions.do_order_test(episode, acting_user=None, kind="cup", reason="random", due_on=timezone.localdate())
    with pytest.raises(ValidationError) as caught:
        actions.do_enter_results(pending, acting_user=clinic.director, results=[ResultIn("BUP", "negative")])
    assert "order" in caught.value.message_dict


def _chart(client, patient):
    return client.get(patient.get_absolute_url()).content.decode()


def test_the_header_flag_stays_until_a_clinician_reviews_and_the_review_closes_the_task(client, clinic):
    episode = su_episode(clinic)
    take(episode, "buprenorphine-naloxone-film")
    order = collected(episode)
    actions.do_enter_results(order, acting_user=clinic.director, results=[ResultIn("BUP", "negative")])
    client.force_login(episode.primary_clinician)
    assert "Unexpected result awaiting review" in _chart(client, episode.patient)
    client.force_login(clinic.clinician)  # the mental-health clinician never sees this program's flag
    assert client.get(episode.patient.get_absolute_url()).status_code == 404
    [result] = order.results.all()
    actions.do_request_confirmation(result, acting_user=clinic.counselor, sent_out=True)
    result.refresh_from_db()
    assert result.confirmation == Result.Confirmation.SENT_OUT and result.confirmation_requested_at is not None
    with pytest.raises(ValidationError) as caught:
        actions.do_review(order, acting_user=clinic.counselor, note="  ")
    assert "note" in caught.value.message_dict
    actions.do_review(order, acting_user=clinic.counselor, note="Missed two doses; pharmacy issue.")
    client.force_login(episode.primary_clinician)
    assert "Unexpected result awaiting review" not in _chart(client, episode.patient)
    assert WorkTask.objects.get(patient=episode.patient).status == WorkTask.Status.DONE


def test_confirmation_is_for_unexpected_results_only(clinic):
    episode = su_episode(clinic)
    order = collected(episode)
    [row] = actions.do_enter_results(order, acting_user=clinic.director, results=[ResultIn("COC", "negative")])
    with pytest.raises(ValidationError) as caught:
        actions.do_request_confirmation(row, acting_user=clinic.director)
    assert "result" in caught.value.message_dict
