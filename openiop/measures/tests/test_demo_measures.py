"""The demo clinic's measures: weekly scores over each stay, the promised courses and alerts. A second run adding
nothing (for every app at once) and two builds on one day giving the same scores are core's demo tests."""

from __future__ import annotations

from collections import Counter

from openiop.core.audit import verify_chain
from openiop.measures import trends
from openiop.measures.models import Administration, SafetyAlert
from openiop.patients.models import EpisodeOfCare


def _courses(org) -> Counter:
    found: Counter = Counter()
    episodes = EpisodeOfCare.objects.filter(patient__organization=org, administrations__isnull=False).distinct()
    for episode in episodes:
        for panel in trends.panels(Administration.objects.filter(episode=episode)):
            change = panel.change
            if change is None or change.count < 2:
                continue
            found["improved"] += change.reliably_improved
            found["not_on_track"] += change.not_on_track and not change.reliably_deteriorated
            found["deteriorated"] += change.reliably_deteriorated
            found["scored"] += 1
    return found


def test_demo_measures_tell_the_promised_story(seeded_demo):
    org = seeded_demo.organization
    assert seeded_demo.seeded["measures"] is True
    done = Administration.objects.filter(patient__organization=org, status="completed")
    assert done.count() > 300
    assert set(done.values_list("instrument_code", flat=True)) == {"phq9", "gad7"}
    assert not done.filter(episode__program__population="adolescent").exists()
    assert Administration.objects.filter(patient__organization=org, status="due").exists()  # this week's, open
    courses = _courses(org)
    assert courses["improved"] > courses["scored"] * 0.6
    assert courses["not_on_track"] >= 1 and courses["deteriorated"] >= 1
    alerts = SafetyAlert.objects.filter(patient__organization=org)
    assert sorted(alerts.values_list("status", flat=True)) == ["acknowledged", "open"]
    assert all(a.items == ["phq9_9"] for a in alerts)
    assert verify_chain() == []
