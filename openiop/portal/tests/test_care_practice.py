"""The skills-practice log in the portal: log an entry (a listed skill or "other" in the patient's words), errors
that keep what was typed, craving asked only where the program asks it, edits within the window only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.portal.tests.care_support import patient_account
from openiop.skills.actions import do_log_practice
from openiop.skills.models import PracticeEntry
from openiop.testing.scheduling import admit


@pytest.fixture
def account(patient):
    return patient_account(patient)


@pytest.fixture
def logged_in(client, account):
    client.force_login(account.user)
    return client


def _when(delta: timedelta = timedelta(0)) -> str:
    return (timezone.localtime(timezone.now() - timedelta(hours=1) + delta)).strftime("%Y-%m-%dT%H:%M")


def test_log_a_listed_skill_and_see_it_in_my_log(logged_in, patient, account):
    page = logged_in.get(reverse("portal:practice")).content.decode()
    assert "Urge surfing" in page and 'name="craving"' not in page  # a mental-health program: no craving question
    response = logged_in.post(
        reverse("portal:practice"),
        {"skill": "Box breathing", "practiced_at": _when(), "how_it_went": "Slowed down before the meeting.",
         "mood": "7"},
    )  # fmt: skip
    assert response.status_code == 302
    entry = PracticeEntry.objects.get()
    assert (entry.patient, entry.entered_by, entry.mood, entry.craving) == (patient, account.user, 7, None)
    page = logged_in.get(reverse("portal:practice")).content.decode()
    assert "Box breathing" in page and "Slowed down before the meeting." in page and "Mood 7/10" in page
    assert 'class="sp-chart"' in page
    assert reverse("portal:practice_edit", args=[entry.public_id]) in page


def test_other_needs_its_name_and_errors_keep_what_was_typed(logged_in):
    response = logged_in.post(
        reverse("portal:practice"), {"skill": "other", "practiced_at": _when(), "how_it_went": "Went for a run."}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Say which skill you practised." in page and "Went for a run." in page
    response = logged_in.post(
        reverse("portal:practice"), {"skill": "other", "skill_other": "Running", "practiced_at": _when()}
    )
    assert response.status_code == 302
    assert PracticeEntry.objects.get().skill_label == "Running"


@pytest.mark.parametrize(
    ("when", "message"),
    [(timedelta(days=1), "That time is still to come."), (timedelta(days=-9), "Log practice from the last 7 days.")],
)
def test_when_must_be_recent_and_not_to_come(logged_in, when, message):
    response = logged_in.post(reverse("portal:practice"), {"skill": "Box breathing",
                                                           "practiced_at": _when(when)})  # fmt: skip
    assert response.status_code == 422 and message in response.content.decode()
    assert not PracticeEntry.objects.exists()


def test_a_substance_use_program_asks_about_craving(client, clinic):
    episode = admit(clinic, "Sky", program=clinic.su)
    account = patient_account(episode.patient, "sky")
    client.force_login(account.user)
    page = client.get(reverse("portal:practice")).content.decode()
    assert 'name="craving"' in page
    client.post(reverse("portal:practice"),
                {"skill": "Urge surfing", "practiced_at": _when(), "mood": "5", "craving": "8"})  # fmt: skip
    entry = PracticeEntry.objects.get()
    assert (entry.episode, entry.craving) == (episode, 8)
    assert "Craving 8/10" in client.get(reverse("portal:practice")).content.decode()


def test_edit_within_the_window_only(logged_in, patient, account):
    episode = patient.episodes.get()
    entry = do_log_practice(patient, acting_user=account.user, episode=episode, skill="Box breathing",
                            practiced_at=timezone.now(), mood=4)  # fmt: skip
    url = reverse("portal:practice_edit", args=[entry.public_id])
    assert logged_in.get(url).status_code == 200
    response = logged_in.post(url, {"skill": "Box breathing", "practiced_at": _when(), "mood": "6",
                                    "how_it_went": "Better the second time."})  # fmt: skip
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.mood, entry.how_it_went) == (6, "Better the second time.")
    PracticeEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - timedelta(hours=25))
    page = logged_in.get(url).content.decode()
    assert "Save changes" not in page and "can be changed for 24 hours" in page
    response = logged_in.post(url, {"skill": "Box breathing", "practiced_at": _when(), "mood": "1"})
    assert response.status_code == 422
    entry.refresh_from_db()
    assert entry.mood == 6
    assert (
        reverse("portal:practice_edit", args=[entry.public_id]) + '">Edit'
        not in logged_in.get(reverse("portal:practice")).content.decode()
    )


def test_without_an_open_episode_there_is_no_form(client, clinic):
    from openiop.testing.fixtures import make_patient

    waiting = make_patient(clinic, admit=False, legal_first_name="Wren")
    account = patient_account(waiting, "wren")
    client.force_login(account.user)
    page = client.get(reverse("portal:practice")).content.decode()
    assert "Practice can be logged while you are in a program." in page
    assert client.post(reverse("portal:practice"), {"skill": "Box breathing"}).status_code == 404
