"""Every reminder kind, sent for a patient of the substance-use program, says nothing clinical (42 CFR Part 2)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest

from openiop.measures.instruments import REGISTRY
from openiop.patients.models import EpisodeOfCare
from openiop.reminders.jobs import run_reminders
from openiop.reminders.models import Kind, Reminder
from openiop.reminders.tests.conftest import opt_in
from openiop.testing.discharge import signed
from openiop.testing.fixtures import make_patient
from openiop.testing.measures import start
from openiop.testing.plans import signed_by_clinician
from openiop.testing.scheduling import make_booking, make_session, make_session_type

FORBIDDEN_WORDS = re.compile(r"substance|alcohol|drug|mental|therapy|iop", re.IGNORECASE)


@pytest.fixture
def every_kind(clinic, su_patient, settings, smtp_inbox, sms_stub):
    """One reminder of each kind for SUD patients, all due at ``now`` (two days ahead, 11:30 program time)."""
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "follow_up_days": [2]}
    su = clinic.su
    tz = su.tz()
    today = su.now().date()
    now = datetime.combine(today + timedelta(days=2), time(11, 30), tzinfo=tz)
    episode = su_patient.episodes.get()
    session_type = make_session_type(su, "Relapse Prevention Group")
    session = make_session(su, datetime.combine(today + timedelta(days=2), time(13), tzinfo=tz),
                           session_type=session_type, title="Relapse Prevention: Cravings")  # fmt: skip
    make_booking(session, su_patient, episode=episode)
    start(su_patient, clinic.director, "phq9", episode=episode)
    signed_by_clinician(su_patient, clinic.director)
    # A second SUD patient, discharged today, for the follow-up check-in.
    leaver = make_patient(clinic, su, legal_first_name="Robin", legal_last_name="Hale", email="robin@example.org")
    signed(leaver.episodes.get(), clinic.director)
    assert leaver.episodes.get().status == EpisodeOfCare.Status.DISCHARGED
    for patient in (su_patient, leaver):
        opt_in(patient, clinic.director, email=True, sms=True)
    return now


def test_every_kind_reveals_no_program_session_type_instrument_or_clinical_word(clinic, every_kind, smtp_inbox,
                                                                                 sms_stub):  # fmt: skip
    counts = run_reminders(every_kind)
    kinds = set(Reminder.objects.filter(status=Reminder.Status.SENT).values_list("kind", flat=True))
    assert kinds == set(Kind.values), counts
    texts = [m.as_string() for m in smtp_inbox.messages] + [r["json"]["body"] for r in sms_stub.requests]
    assert len(smtp_inbox.messages) == len(sms_stub.requests) == 4
    forbidden = [clinic.su.name, clinic.mh.name, clinic.org.name, "Relapse", "Cravings"]
    for instrument in REGISTRY.values():
        forbidden += [instrument.name, instrument.short_name, instrument.code]
    for text in texts:
        assert "Riverside" in text
        for phrase in forbidden:
            assert phrase not in text
        assert not FORBIDDEN_WORDS.search(text), FORBIDDEN_WORDS.search(text)
        assert "Casey" not in text and "Morrow" not in text and "Robin" not in text
    # Links go only to the portal's front door and the preferences page: no record id, no token.
    for message in smtp_inbox.messages:
        body = message.get_content()
        links = set(re.findall(r"https?://\S+", body))
        assert links == {"http://127.0.0.1:8000/portal/", "http://127.0.0.1:8000/reminders/portal/preferences/"}
        assert message["From"].startswith("Riverside <")


def test_session_reminder_names_the_site_day_and_time(clinic, every_kind, smtp_inbox, sms_stub):
    run_reminders(every_kind)
    session_sms = [r["json"]["body"] for r in sms_stub.requests if "appointment" in r["json"]["body"]]
    assert session_sms == [
        "You have an appointment at Riverside today at 1:00 PM. Details: http://127.0.0.1:8000/portal/"
    ]
