"""The demo's discharged episodes: signed summaries with aftercare plans, check-ins done, due and one overdue, the
same after a second run (core's demo test)."""

from __future__ import annotations

from openiop.core.audit import verify_chain
from openiop.discharge.models import AftercarePlan, DischargeSummary, FollowUp
from openiop.patients.models import EpisodeOfCare


def test_the_demo_discharges_are_signed_and_followed_up(seeded_demo):
    today = seeded_demo.today
    episodes = EpisodeOfCare.objects.filter(patient__organization=seeded_demo.organization, status="discharged")
    assert seeded_demo.seeded["discharge"] == episodes.count() == 7

    summaries = DischargeSummary.objects.filter(episode__in=episodes).select_related("episode")
    assert summaries.count() == 7 and all(s.is_signed for s in summaries)
    for summary in summaries:
        # Summaries written after the fact mirror the episode, which is not rewritten: its last change is on the
        # replayed past, before the seeders ran.
        episode = summary.episode
        assert (summary.reason, summary.discharge_on) == (episode.discharge_reason, episode.discharged_on)
        assert episode.updated_at < seeded_demo.started_at
        assert summary.course_of_treatment and summary.attendance
    plans = AftercarePlan.objects.filter(episode__in=episodes)
    assert all(p.locked_at and p.step_down_level and p.appointment_provider and p.appointment_at for p in plans)
    assert {p.step_down_level for p in plans} >= {"outpatient_therapy", "asam_1", "residential"}
    assert all(p.safety_plan.get("professionals") and p.safety_plan.get("warning_signs") for p in plans)
    assert any(p.support_groups for p in plans) and any(p.relapse_prevention for p in plans)
    assert all(p.appointment_phone.startswith("555-01") for p in plans)

    follow_ups = FollowUp.objects.filter(episode__in=episodes)
    assert follow_ups.count() == 21
    assert sorted(set(follow_ups.values_list("days_after", flat=True))) == [7, 30, 90]
    done = follow_ups.exclude(status="due")
    assert done.count() >= 5 and all(f.outcome and f.done_at for f in done)
    assert len(set(done.values_list("outcome", flat=True))) >= 4
    assert follow_ups.filter(status="due", due_on__lt=today).count() == 1
    assert follow_ups.filter(status="due", due_on__gte=today).exists()
    assert all(f.task is not None and f.task.status == ("open" if f.is_open else "done") for f in follow_ups)
    assert DischargeSummary.objects.count() == 7
    assert verify_chain() == []
