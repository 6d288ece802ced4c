"""Discharge carries the medication list: the summary's medications section (with the MOUD state and the last
reconciliation) and the aftercare plan's first draft, without copying a substance-use program's list into another
program's summary."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from openiop.discharge.actions import do_start_discharge
from openiop.medications import actions
from openiop.patients.actions import do_open_episode
from openiop.testing.discharge import today
from openiop.testing.medications import add_medication
from openiop.testing.scheduling import admit


def _start(episode, user):
    return do_start_discharge(episode, acting_user=user, reason="1", discharge_on=today(episode))


def test_the_summary_and_aftercare_plan_carry_the_list_and_who_continues_the_moud(client, clinic):
    episode = admit(clinic, "Casey", program=clinic.su)
    add_medication(episode, clinic.director, "methadone-otp", dose="80 mg", frequency="daily")
    add_medication(episode, clinic.director, "sertraline", strength="50 mg", dose="1 tablet", prescriber="Dr. Ortiz")
    stopped = add_medication(episode, clinic.director, "lorazepam", start_date=today(episode) - timedelta(days=5))
    actions.do_stop_medication(stopped, acting_user=clinic.director, stop_date=today(episode) - timedelta(days=2),
                               stop_reason="Tapered")  # fmt: skip
    actions.do_save_moud_coordination(episode, acting_user=clinic.director, otp_name="Harbor OTP", otp_phone="555-0199")
    actions.do_sign_reconciliation(episode.patient, acting_user=clinic.director, episode=episode, occasion="intake")
    summary = _start(episode, clinic.director)
    moud = "MOUD: continue Methadone (dispensed by an opioid treatment program) with Harbor OTP 555-0199"
    assert summary.medications["medications"] == [
        "Methadone (dispensed by an opioid treatment program): 80 mg daily", "Sertraline 50 mg: 1 tablet (Dr. Ortiz)"
    ]  # fmt: skip
    assert (summary.medications["on_moud"], summary.medications["moud"]) == (True, moud)
    assert summary.medications["last_reconciliation"]["occasion"] == "Intake"
    assert episode.aftercare_plan.medications[0] == moud and len(episode.aftercare_plan.medications) == 3
    client.force_login(clinic.director)
    page = client.get(reverse("discharge:detail", args=[summary.public_id])).content.decode()
    assert "Medications at discharge" in page and "with Harbor OTP 555-0199" in page


def test_a_mental_health_summary_leaves_out_the_substance_use_programs_list(clinic):
    su = admit(clinic, "Casey", program=clinic.su)
    add_medication(su, clinic.director, "buprenorphine-naloxone-film")
    mh = do_open_episode(su.patient, acting_user=None, program=clinic.mh, admitted_on=su.admitted_on,
                         primary_clinician=clinic.clinician)  # fmt: skip
    add_medication(mh, clinic.clinician, "fluoxetine")
    summary = _start(mh, clinic.clinician)
    assert summary.medications["medications"] == ["Fluoxetine"] and summary.medications["on_moud"] is False
    assert mh.aftercare_plan.medications == ["Fluoxetine"]
