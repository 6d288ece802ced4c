"""The chart's Medications tab and its pages: access (VIEW_CLINICAL reads, EDIT_CLINICAL writes, 404 outside the
user's programs), audit, HTMX writes that keep what was typed on a refusal, reconcile, MOUD and the header flag."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import AuditAction, AuditEvent
from openiop.medications.models import Allergy, Medication, MoudCoordination, Reconciliation
from openiop.patients.actions import do_change_level_of_care, do_open_episode
from openiop.scheduling.actions.enrollment import do_enroll
from openiop.testing.levels import add_php
from openiop.testing.medications import add_medication, part2_to_provider
from openiop.testing.scheduling import admit

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def su(clinic):
    """A substance-use patient on buprenorphine/naloxone (director and intake are in the program; the clinician
    is not)."""
    episode = admit(clinic, "Casey", program=clinic.su)
    add_medication(episode, clinic.director, "buprenorphine-naloxone-film", strength="8 mg/2 mg", dose="1 film",
                   frequency="once daily")  # fmt: skip
    return episode


def _tab(patient):
    return reverse("patients:chart_tab", args=[patient.public_id, "medications"])


@pytest.mark.parametrize(("who", "status"), [("director", 200), ("intake", 200), ("auditor", 200),
                                             ("frontdesk", 403), ("billing", 403), ("clinician", 404),
                                             ("outsider", 404), ("stranger", 404)])  # fmt: skip
def test_the_tab_access_matrix(client, clinic, su, who, status):
    client.force_login(getattr(clinic, who))
    assert client.get(_tab(su.patient), **HTMX).status_code == status


def test_the_tab_shows_the_list_moud_and_is_audited(client, clinic, su):
    client.force_login(clinic.director)
    page = client.get(_tab(su.patient), **HTMX).content.decode()
    assert "Buprenorphine/naloxone sublingual film 8 mg/2 mg" in page and "On MOUD" in page
    assert "Not reconciled yet." in page and "Allergies not yet asked about." in page
    assert "Record the MOUD prescriber / OTP" in page
    row = AuditEvent.objects.latest("chain_index")
    assert (row.action, row.object_type) == (AuditAction.RECORD_VIEWED, "medications")


def test_the_chart_header_flags_moud_only_for_who_reads_the_list(client, clinic, su):
    client.force_login(clinic.director)
    assert 'data-flag="moud"' in client.get(su.patient.get_absolute_url()).content.decode()
    # The mental-health clinician of the same patient does not read the substance-use program's list.
    do_open_episode(su.patient, acting_user=None, program=clinic.mh, admitted_on=timezone.localdate())
    client.force_login(clinic.clinician)
    assert 'data-flag="moud"' not in client.get(su.patient.get_absolute_url()).content.decode()


@pytest.mark.parametrize(("who", "status"), [("auditor", 403), ("frontdesk", 403), ("outsider", 404),
                                             ("stranger", 404)])  # fmt: skip
def test_writes_need_edit_clinical_in_the_patients_program(client, clinic, su, who, status):
    client.force_login(getattr(clinic, who))
    med = Medication.objects.get()
    urls = [
        reverse("medications:add", args=[su.patient.public_id]),
        reverse("medications:allergy_add", args=[su.patient.public_id]),
        reverse("medications:nka", args=[su.patient.public_id]),
        reverse("medications:reconcile", args=[su.patient.public_id]),
        reverse("medications:moud", args=[su.public_id]),
        reverse("medications:edit", args=[med.public_id]),
        reverse("medications:stop", args=[med.public_id]),
    ]
    for url in urls:
        assert client.post(url, {"name": "X", "substance": "Y"}).status_code == status, url
    assert Medication.objects.count() == 1 and not Allergy.objects.exists()


def test_adding_from_the_formulary_over_htmx_returns_the_lists(client, clinic, su):
    client.force_login(clinic.intake)
    url = reverse("medications:add", args=[su.patient.public_id])
    response = client.post(url, {"formulary_key": "sertraline", "dose": "50 mg", "source": "external_prescriber"},
                           **HTMX)  # fmt: skip
    assert response.status_code == 200 and "Sertraline" in response.content.decode()
    med = Medication.objects.get(formulary_key="sertraline")
    assert (med.rxcuis, med.episode, med.recorded_by) == (["36437"], su, clinic.intake)


def test_a_refused_add_keeps_what_was_typed_and_names_the_field(client, clinic, su):
    client.force_login(clinic.director)
    url = reverse("medications:add", args=[su.patient.public_id])
    response = client.post(url, {"name": "", "dose": "2 tabs typed", "source": "self_report"}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 422 and "Give the medication&#x27;s name." in page and "2 tabs typed" in page
    response = client.post(url, {"name": "Melatonin", "start_date": "not a date", "source": "self_report"})
    assert response.status_code == 422 and 'value="Melatonin"' in response.content.decode()
    assert Medication.objects.count() == 1


def test_edit_and_stop_pages(client, clinic, su):
    med = Medication.objects.get()
    client.force_login(clinic.director)
    edit = reverse("medications:edit", args=[med.public_id])
    assert client.get(edit).status_code == 200
    assert (
        client.post(edit, {"formulary_key": med.formulary_key, "dose": "2 films", "source": "otp"}).status_code == 302
    )
    stop = reverse("medications:stop", args=[med.public_id])
    refused = client.post(stop, {"stop_date": timezone.localdate().isoformat(), "stop_reason": ""})
    assert refused.status_code == 422 and "This field is required." in refused.content.decode()
    done = client.post(stop, {"stop_date": timezone.localdate().isoformat(), "stop_reason": "Moved to injection"})
    med.refresh_from_db()
    assert done.status_code == 302 and (med.dose, med.source, med.stop_reason) == ("2 films", "otp",
                                                                                    "Moved to injection")  # fmt: skip


def test_allergies_and_no_known_allergies_over_htmx(client, clinic, su):
    client.force_login(clinic.director)
    nka = client.post(reverse("medications:nka", args=[su.patient.public_id]), **HTMX)
    assert "No known allergies" in nka.content.decode()
    url = reverse("medications:allergy_add", args=[su.patient.public_id])
    refused = client.post(url, {"substance": "", "reaction": "Rash typed", "severity": "mild"}, **HTMX)
    assert refused.status_code == 422 and "Rash typed" in refused.content.decode()
    added = client.post(url, {"substance": "Codeine", "reaction": "Vomiting", "severity": "severe"}, **HTMX)
    assert "Codeine" in added.content.decode() and "No known allergies" not in added.content.decode()
    allergy = Allergy.objects.get()
    client.post(reverse("medications:allergy_remove", args=[allergy.public_id]), **HTMX)
    allergy.refresh_from_db()
    assert not allergy.is_active


def test_reconcile_shows_the_changes_then_signs(client, clinic, su):
    client.force_login(clinic.director)
    url = reverse("medications:reconcile", args=[su.patient.public_id])
    page = client.get(url).content.decode()
    assert "Started</span> Buprenorphine/naloxone sublingual film" in page
    refused = client.post(url, {"episode": str(su.public_id), "occasion": "sometime", "note": "Typed note"})
    assert refused.status_code == 422 and "Typed note" in refused.content.decode()
    assert client.post(url, {"episode": str(su.public_id), "occasion": "intake"}).status_code == 302
    signed = Reconciliation.objects.get()
    assert (signed.signed_by, signed.occasion, len(signed.medications)) == (clinic.director, "intake", 1)
    tab = client.get(_tab(su.patient), **HTMX).content.decode()
    assert "Intake ·" in tab and "signed by" in tab


def test_intake_coordinators_cannot_sign_a_reconciliation(client, clinic, su):
    client.force_login(clinic.intake)
    url = reverse("medications:reconcile", args=[su.patient.public_id])
    response = client.post(url, {"episode": str(su.public_id), "occasion": "intake"})
    assert response.status_code == 422 and "needs a clinical credential" in response.content.decode()


def test_moud_coordination_says_release_needed_until_a_part2_consent_names_the_otp(client, clinic, su):
    client.force_login(clinic.director)
    url = reverse("medications:moud", args=[su.public_id])
    today = timezone.localdate()
    yesterday = (today - timedelta(days=1)).isoformat()
    response = client.post(url, {"otp_name": "Harbor OTP", "otp_phone": "555-0199", "last_dose_on": yesterday})
    assert response.status_code == 422 and 'value="Harbor OTP"' in response.content.decode()
    response = client.post(url, {"otp_name": "Harbor OTP", "otp_phone": "555-0199",
                                 "last_dose_on": today.isoformat(), "last_dose_how": "otp_call"})  # fmt: skip
    assert response.status_code == 302
    tab = client.get(_tab(su.patient), **HTMX).content.decode()
    assert 'data-flag="release-needed"' in tab
    part2_to_provider(su.patient, clinic.director, "Harbor OTP", clinic.su)
    tab = client.get(_tab(su.patient), **HTMX).content.decode()
    assert "Release on file" in tab and 'data-flag="release-needed"' not in tab
    assert MoudCoordination.objects.get().last_dose_how == "otp_call"


def test_the_tab_says_which_reconciliation_is_due_intake_then_level_of_care(client, clinic):
    php = add_php(clinic)
    episode = admit(clinic, "Ana", admitted_days_ago=15)
    assert episode.admitted_on is not None
    do_enroll(episode, acting_user=clinic.clinician, track=clinic.day, starts_on=episode.admitted_on)
    add_medication(episode, clinic.clinician, "sertraline")
    client.force_login(clinic.clinician)
    tab = client.get(_tab(episode.patient), **HTMX).content.decode()
    assert "Medication reconciliation due: intake" in tab
    url = reverse("medications:reconcile", args=[episode.patient.public_id])
    assert 'value="intake" selected' in client.get(url).content.decode()
    client.post(url, {"episode": str(episode.public_id), "occasion": "intake"})
    assert 'data-flag="reconciliation-due"' not in client.get(_tab(episode.patient), **HTMX).content.decode()
    do_change_level_of_care(episode, acting_user=clinic.director, track=php.track, effective_on=timezone.localdate(),
                            reason="Step up")  # fmt: skip
    tab = client.get(_tab(episode.patient), **HTMX).content.decode()
    assert "Medication reconciliation due: level-of-care change" in tab
    assert 'value="level_of_care" selected' in client.get(url).content.decode()
    client.post(url, {"episode": str(episode.public_id), "occasion": "level_of_care"})
    assert 'data-flag="reconciliation-due"' not in client.get(_tab(episode.patient), **HTMX).content.decode()
