"""The utilization-review packet: what it gathers for a date range, and the consent gate on every way out (page,
PDF, API): refused without a consent naming the health plan, a Part 2 consent for substance-use records (with the
§2.32 notice on the packet), each packet sent recorded in the accounting of disclosures and audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from openiop.billing.models import BillableDay
from openiop.conftest import login
from openiop.consents.models import ConsentKind, DataClass, Disclosure, ExpiryKind, Purpose, RecipientKind
from openiop.consents.notices import SHORT_NOTICE
from openiop.core.models import AuditAction, AuditEvent
from openiop.notes.models import ProgressNote
from openiop.patients.actions import do_add_coverage
from openiop.patients.models import EpisodeOfCare
from openiop.testing import intake as intake_factory
from openiop.testing.consents import part2_tpo, record
from openiop.testing.discharge import attend, today
from openiop.testing.measures import completed, phq9
from openiop.testing.notes import active_plan
from openiop.testing.pdftext import plain_text
from openiop.testing.scheduling import admit
from openiop.utilization import packet as packets
from openiop.utilization.models import Authorization


@pytest.fixture(autouse=True)
def _private_store(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def _covered(episode):
    return do_add_coverage(
        episode.patient,
        acting_user=None,
        payer_kind="commercial",
        payer_name="Blue Harbor Health",
        member_id="BH123456",
        group_number="G-77",
    )


def _release_to_health_plans(patient, user, **fields):
    """A release naming the patient's health plan as the organization, for payment, until discharge."""
    values = {
        "information_description": "Records my health plan needs to review and pay for my care.",
        "data_classes": [c.value for c in packets.PACKET_DATA_CLASSES],
        "recipient_kind": RecipientKind.OUTSIDE_PROVIDER,
        "recipient_organization": "Blue Harbor Health",
        "purposes": [Purpose.PAYMENT],
        "expiry_kind": ExpiryKind.EVENT,
        "expiry_event": "Discharge from the program",
    }
    values.update(fields)
    return record(patient, user, ConsentKind.RELEASE, **values)


@pytest.fixture
def episode(clinic):
    episode = admit(clinic, "Jordan", admitted_days_ago=30)
    _covered(episode)
    return episode


def _chart(episode, user):
    """A record with something in every section, inside the last three weeks (the episode read again after)."""
    day = today(episode)
    intake_factory.signed(episode.patient, user, episode=episode)
    attend(episode, user, ["present", "present", "absent_unexcused", "present"], start_days_ago=12)
    completed(episode.patient, user, "phq9", phq9(18), today=day - timedelta(days=20))
    completed(episode.patient, user, "phq9", phq9(9, item9=1), today=day - timedelta(days=3))
    active_plan(episode, user)
    ProgressNote.objects.create(
        patient=episode.patient,
        episode=episode,
        format="SOAP",
        assessment="Mood lifting; uses the thought record daily. Still needs structure three days a week.",
        service_date=day - timedelta(days=2),
        author=user,
        author_credentials="LCSW",
        status=ProgressNote.Status.SIGNED,
        signed_at=timezone.now(),
        due_at=timezone.now(),
    )
    return EpisodeOfCare.objects.select_related("patient", "program__site").get(pk=episode.pk)


def test_the_packet_gathers_each_section_for_the_range(clinic, episode):
    episode = _chart(episode, clinic.clinician)
    day = today(episode)
    packet = packets.build_packet(episode, start=day - timedelta(days=13), end=day)

    assert packet["period"] == {"start": (day - timedelta(days=13)).isoformat(), "end": day.isoformat()}
    assert packet["coverage"]["member_id"] == "BH123456"
    assert [d["code"] for d in packet["diagnoses"]] == ["F33.1"] and packet["diagnoses"][0]["primary"]
    (rating,) = packet["level_of_care_ratings"]
    assert rating["level"] == "2.1" and {"dimension": "d5", "value": "3"} in rating["dimensions"]
    attendance = packet["attendance"]
    assert (attendance["sessions_held"], attendance["sessions_attended"]) == (4, 3)
    assert attendance["attendance_rate"] == "75.0"
    assert attendance["weeks"] and all(w["minimum_hours"] for w in attendance["weeks"])
    (phq,) = packet["measures"]
    # 18 -> 10 (item 9 adds one): a fall of 8 is past PHQ-9's reliable-change threshold of 6.
    assert [s["score"] for s in phq["scores"]] == [18, 10]
    assert phq["change"] == -8 and phq["reliably_improved"] and phq["reliable_change_threshold"] == 6
    (event,) = packet["safety_events"]
    assert event["instrument"] == "phq9" and event["status"] == "Open"
    assert packet["plan"]["version"] == 1
    assert packet["goals"][0]["goal"] == "Feel well enough to return to work"
    (note,) = packet["notes"]
    assert note["summary"].startswith("Mood lifting") and note["author"].endswith("LCSW")
    assert packet["authorizations"] == []


def test_the_packet_names_the_authorization_with_units_used_counted_live(clinic, episode):
    day = today(episode)
    billing_day = BillableDay.objects.create(
        episode=episode,
        patient=episode.patient,
        program=episode.program,
        date=day - timedelta(days=2),
        payer_kind="commercial",
        is_billable=True,
        tier="standard",
        service_count=3,
        minutes_attended=180,
        reason="3 services",
        evaluated_at=timezone.now(),
    )
    Authorization.objects.create(
        episode=episode,
        coverage=episode.patient.coverages.get(),
        number="AUTH-9",
        level_of_care=episode.program.level_of_care,
        start_date=day - timedelta(days=10),
        end_date=day + timedelta(days=10),
        units_authorized=12,
        status=Authorization.Status.APPROVED,
    )
    (auth,) = packets.build_packet(episode, start=day - timedelta(days=13), end=day)["authorizations"]
    assert (auth["number"], auth["units_authorized"], auth["units_used"]) == ("AUTH-9", 12, 1)
    billing_day.is_billable = False
    billing_day.save()
    (auth,) = packets.build_packet(episode, start=day - timedelta(days=13), end=day)["authorizations"]
    assert auth["units_used"] == 0


def test_a_range_before_the_events_leaves_them_out(clinic, episode):
    episode = _chart(episode, clinic.clinician)
    day = today(episode)
    packet = packets.build_packet(episode, start=day - timedelta(days=29), end=day - timedelta(days=15))
    assert packet["safety_events"] == [] and packet["notes"] == []
    assert [s["score"] for s in packet["measures"][0]["scores"]] == [18]  # only what was known by the range's end
    assert packet["attendance"]["sessions_held"] == 0


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [(None, 0, "start"), (0, None, "end"), (0, -1, "end"), (-400, 0, "end"), (-60, -45, "end")],
)
def test_a_range_that_makes_no_sense_is_refused_by_field(episode, start, end, field):
    day = today(episode)

    def at(offset):
        return None if offset is None else day + timedelta(days=offset)

    with pytest.raises(ValidationError) as caught:
        packets.check_range(episode, at(start), at(end))
    assert field in caught.value.message_dict


def test_without_a_consent_naming_health_plans_nothing_leaves(clinic, episode):
    day = today(episode)
    with pytest.raises(packets.PacketRefused) as refused:
        packets.disclose_packet(episode, acting_user=clinic.billing, start=day - timedelta(days=7), end=day)
    assert "consent" in refused.value.reason
    assert not Disclosure.objects.filter(patient=episode.patient).exists()
    assert not AuditEvent.objects.filter(object_type="utilization_review_packet").exists()


def test_a_release_to_health_plans_lets_it_go_and_it_is_accounted_for(clinic, episode):
    _release_to_health_plans(episode.patient, clinic.clinician)
    day = today(episode)
    sent = packets.disclose_packet(episode, acting_user=clinic.billing, start=day - timedelta(days=7), end=day)
    assert sent.notice == "" and sent.packet["redisclosure_notice"] == ""
    disclosure = Disclosure.objects.get(patient=episode.patient)
    assert disclosure.recipient_type == "provider" and disclosure.recipient_name == "Blue Harbor Health"
    assert disclosure.purpose == Purpose.PAYMENT and set(disclosure.data_classes) == {
        c.value for c in packets.PACKET_DATA_CLASSES
    }
    event = AuditEvent.objects.get(object_type="utilization_review_packet")
    assert event.action == AuditAction.EXPORTED and event.actor_id == clinic.billing.pk


def test_a_release_missing_one_kind_of_information_refuses_the_whole_packet(clinic, episode):
    classes = [c.value for c in packets.PACKET_DATA_CLASSES if c != DataClass.PROGRESS_NOTES]
    _release_to_health_plans(episode.patient, clinic.clinician, data_classes=classes)
    assert not packets.consent_for_packet(episode).allowed


def test_substance_use_records_need_a_part2_consent_and_carry_the_notice(clinic):
    episode = admit(clinic, "Casey", program=clinic.su, admitted_days_ago=20)
    _covered(episode)
    _release_to_health_plans(episode.patient, clinic.director)
    assert "Part 2" in packets.consent_for_packet(episode).reason  # a general release is not enough

    part2_tpo(episode.patient, clinic.director)
    day = today(episode)
    sent = packets.disclose_packet(episode, acting_user=clinic.billing, start=day - timedelta(days=7), end=day)
    assert sent.notice == SHORT_NOTICE and sent.packet["redisclosure_notice"] == SHORT_NOTICE
    text = plain_text(packets.render_packet_pdf(sent, episode=episode))
    assert "Utilization review packet" in text and "42 CFR Part 2 notice" in text
    assert SHORT_NOTICE.split(".")[0] in text


def test_the_page_previews_and_downloads_the_pdf_once_a_consent_allows_it(client, clinic, episode):
    _chart(episode, clinic.clinician)
    url = reverse("utilization:packet", args=[episode.public_id])
    login(client, clinic.billing)
    page = client.get(url)
    assert page.status_code == 200 and b'data-consent="refused"' in page.content
    day = today(episode)
    dates = {"start": (day - timedelta(days=13)).isoformat(), "end": day.isoformat()}

    preview = client.post(url, {**dates, "action": "preview"})
    assert preview.status_code == 200 and b"F33.1" in preview.content and b"Mood lifting" in preview.content
    assert not Disclosure.objects.filter(patient=episode.patient).exists()  # a preview stays in the clinic
    assert AuditEvent.objects.filter(object_type="utilization_review_packet", action=AuditAction.RECORD_VIEWED)

    refused = client.post(url, {**dates, "action": "pdf"})
    assert refused.status_code == 403 and b"alert-danger" in refused.content
    assert refused["Content-Type"].startswith("text/html")

    _release_to_health_plans(episode.patient, clinic.clinician)
    pdf = client.post(url, {**dates, "action": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "Jordan" not in pdf["Content-Disposition"] and "ur-packet-" in pdf["Content-Disposition"]
    assert "F33.1" in plain_text(pdf.content)
    assert Disclosure.objects.filter(patient=episode.patient).count() == 1


def test_bad_dates_keep_what_was_typed(client, clinic, episode):
    login(client, clinic.billing)
    url = reverse("utilization:packet", args=[episode.public_id])
    answer = client.post(url, {"start": "2026-13-45", "end": "yesterday-ish", "action": "pdf"})
    assert answer.status_code == 400
    assert b'value="2026-13-45"' in answer.content and b'value="yesterday-ish"' in answer.content
    backwards = client.post(url, {"start": "2026-11-20", "end": "2026-11-10", "action": "preview"})
    assert backwards.status_code == 400 and b"before the first" in backwards.content


@pytest.mark.parametrize(
    ("who", "status"),
    [("billing", 200), ("clinician", 200), ("director", 200), ("frontdesk", 403), ("auditor", 403),
     ("outsider", 404), ("stranger", 404)],
)  # fmt: skip
def test_who_may_prepare_a_packet(client, clinic, episode, who, status):
    login(client, getattr(clinic, who))
    assert client.get(reverse("utilization:packet", args=[episode.public_id])).status_code == status


def test_anonymous_users_are_sent_to_sign_in(client, episode):
    answer = client.get(reverse("utilization:packet", args=[episode.public_id]))
    assert answer.status_code == 302 and "login" in answer["Location"]


def test_the_api_answers_the_consent_question_and_the_packet(client, clinic, episode):
    episode = _chart(episode, clinic.clinician)
    login(client, clinic.billing)
    base = f"/api/v1/episodes/{episode.public_id}/ur-packet"
    day = today(episode)
    body = {"start": (day - timedelta(days=13)).isoformat(), "end": day.isoformat()}

    consent = client.get(f"{base}/consent")
    assert consent.status_code == 200 and consent.json()["allowed"] is False
    refused = client.post(base, body, content_type="application/json")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    assert "consent" in refused.json()["detail"] and not Disclosure.objects.exists()

    _release_to_health_plans(episode.patient, clinic.clinician)
    assert client.get(f"{base}/consent").json()["allowed"] is True
    answer = client.post(base, body, content_type="application/json")
    assert answer.status_code == 200
    packet = answer.json()
    assert packet["diagnoses"][0]["code"] == "F33.1" and packet["measures"][0]["reliably_improved"] is True
    assert Disclosure.objects.get(patient=episode.patient).channel == "api"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"start": "2026-11-20", "end": "2026-11-10"}, "end"), ({"start": "2026-11-01"}, "end"),
     ({"start": "not a date", "end": "2026-11-10"}, "start"),
     ({"start": "2026-11-01", "end": "2026-11-02", "to": "x"}, "to")],
)  # fmt: skip
def test_the_api_names_the_field_at_fault(client, clinic, episode, body, field):
    login(client, clinic.billing)
    answer = client.post(f"/api/v1/episodes/{episode.public_id}/ur-packet", body, content_type="application/json")
    assert answer.status_code == 422
    assert field in [e["field"] for e in answer.json()["errors"]]


@pytest.mark.parametrize(("who", "status"), [("frontdesk", 403), ("outsider", 404), ("stranger", 404)])
def test_the_api_refuses_who_may_not_prepare_a_packet(client, clinic, episode, who, status):
    login(client, getattr(clinic, who))
    assert client.get(f"/api/v1/episodes/{episode.public_id}/ur-packet/consent").status_code == status
    body = {"start": "2026-11-01", "end": "2026-11-02"}
    post = client.post(f"/api/v1/episodes/{episode.public_id}/ur-packet", body, content_type="application/json")
    assert post.status_code == status
