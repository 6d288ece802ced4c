"""The demo pipeline: slots for two weeks, a dozen referrals across stages (a second run adding nothing, and two
builds on one day agreeing, are core's demo tests)."""

from __future__ import annotations

from datetime import timedelta

from openiop.demo.referrals import REFERRALS
from openiop.referrals.models import IntakeAppointment, IntakeSlot, Referral
from openiop.referrals.queries import metrics


def test_the_demo_pipeline_covers_every_stage(seeded_demo):
    today = seeded_demo.today
    demo = seeded_demo.clinic
    assert seeded_demo.seeded["referrals"] is True
    referrals = Referral.objects.filter(organization=demo.organization)
    assert referrals.count() == len(REFERRALS) >= 12
    stages = set(referrals.values_list("stage", flat=True))
    assert stages == {"inquiry", "screening", "scheduled", "assessed", "waitlisted", "referred_elsewhere",
                      "declined", "no_response"}  # fmt: skip
    assert len(set(referrals.values_list("source", flat=True))) == 8
    assert IntakeAppointment.objects.filter(status="booked").count() == 3
    slots = IntakeSlot.objects.filter(program__site__organization=demo.organization)
    assert all(s.starts_at.date() <= today + timedelta(days=15) for s in slots)

    # Dated along their stories: received over the last weeks, and the assessed ones seen at a past intake.
    received = {r.received_at.date() for r in referrals}
    assert len(received) > 8 and max(received) < today
    director = next(u for u in demo.staff if u.username == "director")
    kpis = metrics(director)
    assert kpis.served >= 2 and kpis.median_to_first_service_days is not None
    assert kpis.median_to_first_service_days > 1
    assert all(r.email.endswith("@example.org") and r.phone.startswith("555-01") for r in referrals)
