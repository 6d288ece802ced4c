"""The demo's drug testing: a random schedule with three weeks of draws that reproduce from their seeds, collected
cups, one imported HL7 result, expected buprenorphine results on MOUD, and unexpected results with open review tasks
and the chart flag (a second run adding nothing is core's demo test)."""

from __future__ import annotations

from openiop.core.audit import verify_chain
from openiop.labs.jobs import reproduces
from openiop.labs.models import LabImport, Result, SchedulePick, TestingSchedule, TestOrder
from openiop.worklist.models import WorkTask


def test_the_demo_drug_testing(seeded_demo, client):
    org = seeded_demo.organization
    assert seeded_demo.seeded["labs"] > 0
    schedule = TestingSchedule.objects.get(program__site__organization=org)
    assert schedule.program.focus == "substance_use" and schedule.mode == "random"
    picks = SchedulePick.objects.filter(schedule=schedule)
    assert picks.count() == 3 and all(reproduces(p) for p in picks)
    orders = TestOrder.objects.filter(patient__organization=org)
    assert orders.filter(status="resulted").count() >= 3
    assert LabImport.objects.filter(organization=org, format="hl7").count() == 1
    results = Result.objects.filter(order__patient__organization=org)
    assert results.filter(analyte="BUP", outcome="positive", interpretation="expected").exists()
    unexpected = results.filter(interpretation="unexpected")
    assert set(unexpected.values_list("analyte", flat=True)) <= {"FTY", "COC"} and unexpected.exists()
    tasks = WorkTask.objects.filter(kind=WorkTask.Kind.DRUG_TEST_REVIEW, status="open", patient__organization=org)
    assert tasks.count() == unexpected.values("order").distinct().count()
    order = unexpected.first().order  # type: ignore[union-attr]
    clinician = order.episode.primary_clinician
    client.force_login(clinician)
    assert "Unexpected result awaiting review" in client.get(order.patient.get_absolute_url()).content.decode()
    assert verify_chain() == []
