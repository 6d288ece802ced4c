"""Break-the-glass: who may open a chart outside their programs, for how long, what it records, who is told, and the
review that signs it off (patients/emergency.py). The outsider is a clinician of the adolescent program; the patient
is in adult mental health (or substance use, for Part 2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.roles import Role
from openiop.patients import emergency
from openiop.patients.models import EmergencyAccessGrant
from openiop.plans.models import TreatmentPlan
from openiop.testing.clock import moving_clock
from openiop.testing.consents import part2_tpo
from openiop.testing.fixtures import make_patient, staff
from openiop.worklist.models import WorkTask

URL = reverse("patients:emergency")
REASON = "Patient arrived in crisis at the Hillcrest site; primary team unreachable."


@pytest.fixture
def privacy(clinic):
    return staff(clinic.org, "privacy", Role.PRIVACY_OFFICER, [])


def _grant_data(patient, **extra):
    return {
        "step": "grant",
        "patient": str(patient.public_id),
        "reason_category": "safety_risk",
        "reason": REASON,
        "confirm": "on",
        **extra,
    }


def _grant(client, patient, **extra):
    return client.post(URL, _grant_data(patient, **extra))


def test_outsider_finds_the_patient_by_mrn_states_the_reason_and_reads_the_chart(
    client, clinic, patient, privacy, django_capture_on_commit_callbacks
):
    login(client, clinic.outsider)
    chart = patient.get_absolute_url()
    assert client.get(chart).status_code == 404

    found = client.post(URL, {"step": "lookup", "mrn": patient.mrn})
    assert found.status_code == 200
    assert b"not in your programs" in found.content
    assert b"42 CFR" not in found.content  # no Part 2 records: no documentation asked
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_SEARCHED, object_type="emergency_lookup").exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = _grant(client, patient)
    assert response.status_code == 302 and response.url == chart
    grant = EmergencyAccessGrant.objects.get(user=clinic.outsider, patient=patient)
    assert grant.expires_at - grant.granted_at == timedelta(minutes=60)
    assert grant.part2_basis == ""

    page = client.get(chart)
    assert page.status_code == 200
    assert b"Emergency access until" in page.content
    # Every read under the grant carries the emergency code, never the ordinary one.
    reads = AuditEvent.objects.filter(patient=patient, actor=clinic.outsider)
    assert set(reads.exclude(object_type="worktask").values_list("action", flat=True)) == {
        AuditAction.PATIENTS_SEARCHED,
        AuditAction.EMERGENCY_ACCESS_GRANTED,
        AuditAction.EMERGENCY_VIEWED,
    }
    granted = reads.get(action=AuditAction.EMERGENCY_ACCESS_GRANTED)
    assert REASON not in str(granted.changed_fields)
    # The tab fragments too, and the episodes in programs the outsider is not in are shown.
    tab = client.get(reverse("patients:chart_tab", args=[patient.public_id, "episodes"]), HTTP_HX_REQUEST="true")
    assert tab.status_code == 200 and b"Adult Mental Health IOP" in tab.content
    assert reads.filter(action=AuditAction.EMERGENCY_VIEWED).count() == 2

    # The director of the patient's programs gets a task; the privacy officer an email naming nobody.
    task = WorkTask.objects.get(kind=WorkTask.Kind.EMERGENCY_ACCESS_REVIEW)
    assert task.assigned_to == clinic.director and task.patient == patient
    assert REASON not in task.reason
    (message,) = mail.outbox
    assert message.to == [privacy.email]
    assert reverse("patients:emergency_review", args=[grant.public_id]) in message.body
    for phi in (patient.legal_first_name, patient.legal_last_name, patient.mrn, "crisis"):
        assert phi not in message.body and phi not in message.subject


def test_the_grant_is_read_only_and_shows_the_clinical_tabs(client, clinic, patient):
    login(client, clinic.outsider)
    _grant(client, patient)
    assert client.get(patient.get_absolute_url()).status_code == 200
    assert client.get(reverse("patients:edit", args=[patient.public_id])).status_code == 404
    episode = patient.episodes.get()
    assert client.get(reverse("patients:episode_edit", args=[episode.public_id])).status_code == 404
    # A write path that looks the patient up with a read capability still finds nothing: grants serve GET only.
    assert client.post(reverse("scheduling:patient_feed_create", args=[patient.public_id])).status_code == 404
    # The clinical tabs read the patient's other programs; the Plan tab makes no plan for a reader under the grant.
    for tab in ("notes", "measures", "plan"):
        response = client.get(reverse("patients:chart_tab", args=[patient.public_id, tab]), HTTP_HX_REQUEST="true")
        assert response.status_code == 200, tab
    assert not TreatmentPlan.objects.filter(patient=patient).exists()


def test_the_grant_expires(client, clinic, patient, monkeypatch, settings):
    settings.OPENIOP_DEFAULTS = {**settings.OPENIOP_DEFAULTS, "emergency_access_minutes": 15}
    login(client, clinic.outsider)
    _grant(client, patient)
    grant = EmergencyAccessGrant.objects.get()
    assert grant.expires_at - grant.granted_at == timedelta(minutes=15)
    moving_clock(monkeypatch, timezone.now() + timedelta(minutes=14))
    assert client.get(patient.get_absolute_url()).status_code == 200
    moving_clock(monkeypatch, grant.expires_at + timedelta(seconds=1))
    assert client.get(patient.get_absolute_url()).status_code == 404


def test_who_may_break_the_glass(client, clinic, patient, privacy):
    for name in ("frontdesk", "billing", "auditor", "sysadmin"):
        login(client, clinic.people[name])
        assert client.get(URL).status_code == 403, name
        assert _grant(client, patient).status_code == 403, name
    # The sysadmin gives the privacy officer role on the staff page like any other.
    assert b'value="privacy_officer"' in client.get(reverse("programs:staff_create")).content
    login(client, privacy)
    assert client.get(URL).status_code == 403
    # Another organization: the MRN finds nothing, and the patient's id is a 404.
    login(client, clinic.stranger)
    lookup = client.post(URL, {"step": "lookup", "mrn": patient.mrn})
    assert lookup.status_code == 200 and b"No single patient matches" in lookup.content
    assert _grant(client, patient).status_code == 404
    assert not EmergencyAccessGrant.objects.exists()
    # A member needs no glass to break: straight to the chart.
    login(client, clinic.clinician)
    assert client.post(URL, {"step": "lookup", "mrn": patient.mrn}).url == patient.get_absolute_url()


def test_lookup_needs_an_exact_match_and_the_grant_a_reason(client, clinic, patient):
    login(client, clinic.outsider)
    partial = client.post(URL, {"step": "lookup", "last": "Rivera"})
    assert b"Enter the MRN, or the legal last name" in partial.content
    wrong = client.post(URL, {"step": "lookup", "last": "Riv", "first": "Jordan", "dob": "1990-04-12"})
    assert b"No single patient matches" in wrong.content
    exact = client.post(URL, {"step": "lookup", "last": "rivera", "first": "JORDAN", "dob": "1990-04-12"})
    assert b"not in your programs" in exact.content
    # The reason is required.
    response = _grant(client, patient, reason=" ", reason_category="")
    assert response.status_code == 200
    assert b"Please correct the following" in response.content
    assert not EmergencyAccessGrant.objects.exists()


def test_part2_records_need_the_medical_emergency_documentation(client, clinic):
    sud = make_patient(clinic, clinic.su, legal_first_name="Casey", legal_last_name="Morgan")
    login(client, clinic.outsider)
    form = client.post(URL, {"step": "lookup", "mrn": sud.mrn})
    assert b"42 CFR" in form.content and b'data-part2="required"' in form.content
    refused = _grant(client, sud)
    assert refused.status_code == 200 and not EmergencyAccessGrant.objects.exists()
    for label in (b"Medical personnel receiving the records", b"Their affiliation", b"Nature of the medical emergency"):
        assert label in refused.content
    documented = {
        "part2_recipient_name": "Dr. Ana Ortiz",
        "part2_recipient_affiliation": "St. Mary's Emergency Department",
        "part2_emergency_nature": "Unresponsive after suspected overdose; medication history needed.",
    }
    assert _grant(client, sud, **documented).status_code == 302
    grant = EmergencyAccessGrant.objects.get()
    assert grant.part2_basis == EmergencyAccessGrant.Part2Basis.MEDICAL_EMERGENCY
    assert grant.part2_recipient_affiliation == "St. Mary's Emergency Department"


def test_a_part2_consent_for_treating_providers_stands_in_for_the_documentation(client, clinic, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    sud = make_patient(clinic, clinic.su, legal_first_name="Casey", legal_last_name="Morgan")
    part2_tpo(sud, clinic.director)
    login(client, clinic.outsider)
    assert b'data-part2="required"' not in client.post(URL, {"step": "lookup", "mrn": sud.mrn}).content
    assert _grant(client, sud).status_code == 302
    assert EmergencyAccessGrant.objects.get().part2_basis == EmergencyAccessGrant.Part2Basis.CONSENT


def test_review_signs_the_grant_off_and_closes_the_directors_tasks(client, clinic, patient, privacy):
    login(client, clinic.outsider)
    _grant(client, patient)
    client.get(patient.get_absolute_url())
    grant = EmergencyAccessGrant.objects.get()
    review_url = reverse("patients:emergency_review", args=[grant.public_id])

    login(client, privacy)
    listing = client.get(reverse("patients:emergency_reviews"))
    assert listing.status_code == 200 and str(grant.public_id).encode() in listing.content
    assert b'data-count="emergency">1' in listing.content  # the nav count
    review_page = client.get(review_url)
    assert REASON.encode() in review_page.content
    assert b"Viewed under this access (1)" in review_page.content
    needs_note = client.post(review_url, {"outcome": "inappropriate", "note": ""})
    assert needs_note.status_code == 200 and b"Say what was inappropriate" in needs_note.content
    done = client.post(review_url, {"outcome": "appropriate", "note": "Crisis walk-in, documented."})
    assert done.status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_by == privacy and grant.review_outcome == "appropriate"
    assert AuditEvent.objects.filter(action=AuditAction.EMERGENCY_ACCESS_REVIEWED, actor=privacy).exists()
    assert not WorkTask.objects.filter(kind=WorkTask.Kind.EMERGENCY_ACCESS_REVIEW, status=WorkTask.Status.OPEN)
    assert b'data-count="emergency"' not in client.get(reverse("patients:emergency_reviews")).content
    assert client.get(reverse("core:home")).status_code == 200  # the privacy officer's home, with no program
    # The audit report filters the emergency reads.
    report = client.get(reverse("core:audit_report"), {"action": int(AuditAction.EMERGENCY_VIEWED)})
    assert report.status_code == 200


def test_who_may_review(client, clinic, patient, privacy):
    login(client, clinic.outsider)
    _grant(client, patient)
    grant = EmergencyAccessGrant.objects.get()
    review_url = reverse("patients:emergency_review", args=[grant.public_id])
    for name in ("clinician", "frontdesk", "auditor", "outsider"):
        login(client, clinic.people[name])
        assert client.get(review_url).status_code == 403, name
    # A director of other programs, and one of another organization, do not see it.
    teen_director = staff(clinic.org, "teendirector", Role.DIRECTOR, [clinic.teen])
    for user in (teen_director, clinic.stranger):
        login(client, user)
        assert client.get(review_url).status_code == 404
        assert str(grant.public_id).encode() not in client.get(reverse("patients:emergency_reviews")).content
    login(client, clinic.director)
    assert client.get(review_url).status_code == 200
    with pytest.raises(Exception, match="in your programs"):
        emergency.do_grant_emergency_access(patient, acting_user=clinic.clinician, reason_category="other", reason="x")
    # Nobody signs off their own emergency access.
    with pytest.raises(Exception, match="Someone else"):
        emergency.do_review_emergency_access(grant, acting_user=clinic.outsider, outcome="appropriate")


def test_every_clinical_tab_reads_the_patients_records_and_offers_no_write(client, clinic, patient):
    from openiop.testing import consents as consent_helpers
    from openiop.testing import discharge as discharge_helpers
    from openiop.testing import intake as intake_helpers
    from openiop.testing.scheduling import local_at, make_booking, make_session

    episode = patient.episodes.get()
    session = make_session(episode.program, local_at(episode.program, 2, 10))
    make_booking(session, patient, episode=episode)
    assessment = intake_helpers.start(patient, clinic.clinician)
    consent = consent_helpers.record(patient, clinic.clinician)
    summary = discharge_helpers.drafted(episode, clinic.clinician)
    login(client, clinic.outsider)
    _grant(client, patient)

    def tab(name):
        response = client.get(reverse("patients:chart_tab", args=[patient.public_id, name]), HTTP_HX_REQUEST="true")
        assert response.status_code == 200, name
        return response.content.decode()

    # Each tab lists what the patient's own programs hold, where it said "none in your programs" before.
    assert 'Upcoming sessions <span class="text-muted">(1)</span>' in tab("schedule")
    assert "in your programs" not in tab("intake") and "Draft" in tab("intake")
    assert "Consent to treatment" in tab("consents") and "in your programs" not in tab("consents")
    assert "in your programs" not in tab("discharge")
    assert "No admitted episode" not in tab("attendance")
    # ...and none offers a write the grant would refuse.
    chart = client.get(patient.get_absolute_url()).content.decode()
    writes = ("Edit demographics", "Open episode", "Deactivate record", "Write a note", "Start an intake assessment",
              "Record a consent", "Make a feed address", "Start discharge")  # fmt: skip
    for name in ("schedule", "intake", "consents", "discharge", "notes", "episodes", "demographics", "measures"):
        page = chart + tab(name)
        assert not [w for w in writes if w in page], name
    # The records behind the rows open read-only, each read audited as an emergency view.
    before = AuditEvent.objects.filter(actor=clinic.outsider, action=AuditAction.EMERGENCY_VIEWED).count()
    details = (
        reverse("consents:detail", args=[consent.public_id]),
        reverse("intake:detail", args=[assessment.public_id]),
        summary.get_absolute_url(),
    )
    for url in details:
        assert client.get(url).status_code == 200, url
    assert AuditEvent.objects.filter(actor=clinic.outsider, action=AuditAction.EMERGENCY_VIEWED).count() >= before + 3
    assert client.post(reverse("consents:revoke", args=[consent.public_id])).status_code == 404


def test_a_second_lookup_or_a_resent_form_while_the_grant_lasts_opens_the_chart_without_a_new_grant(
    client, clinic, patient
):
    login(client, clinic.outsider)
    _grant(client, patient)
    again = client.post(URL, {"step": "lookup", "mrn": patient.mrn})
    assert again.status_code == 302 and again.url == patient.get_absolute_url()
    assert _grant(client, patient).status_code == 302
    assert EmergencyAccessGrant.objects.filter(user=clinic.outsider, patient=patient).count() == 1
