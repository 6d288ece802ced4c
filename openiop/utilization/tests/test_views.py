"""The pages: access matrix, audit rows, what typed input keeps, reviews that change the authorization, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.testing import intake
from openiop.utilization.models import Authorization, UtilizationReview
from openiop.utilization.tests.conftest import make_stay

LIST = "/utilization/"


def _detail(auth: Authorization) -> str:
    return f"/utilization/{auth.public_id}/"


def _tab(stay) -> str:
    return f"/patients/{stay.episode.patient.public_id}/tabs/authorizations/"


@pytest.fixture
def auth(stay) -> Authorization:
    stay.day(2)
    return stay.authorize(start_ago=5, end_ahead=4, units=3)


def test_billing_reads_the_list_with_flags_and_the_detail(client, clinic, stay, auth):
    login(client, clinic.billing)
    page = client.get(LIST)
    assert page.status_code == 200
    body = page.content.decode()
    assert str(auth.public_id) in body and 'data-flag="expiring"' in body and 'data-flag="units_low"' in body
    assert AuditEvent.objects.filter(action=AuditAction.PATIENTS_LISTED, object_type="authorization").exists()
    detail = client.get(_detail(auth))
    assert detail.status_code == 200
    assert 'data-units-used="1"' in detail.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.RECORD_VIEWED, object_id=str(auth.public_id)).exists()


@pytest.mark.parametrize("flag", ["expiring", "units_low", "review_due"])
def test_the_list_filters_by_flag(client, clinic, stay, auth, flag):
    calm = make_stay(clinic, "Calm")
    quiet = calm.authorize(start_ago=1, end_ahead=60, units=40, review_due_on=calm.today + timedelta(days=40))
    login(client, clinic.billing)
    body = client.get(LIST, {"flag": flag}).content.decode()
    assert str(auth.public_id) in body and str(quiet.public_id) not in body
    assert str(quiet.public_id) in client.get(LIST).content.decode()


def test_clinician_sees_the_chart_tab_but_not_the_billing_pages(client, clinic, stay, auth):
    login(client, clinic.clinician)
    tab = client.get(_tab(stay), headers={"HX-Request": "true"})
    assert tab.status_code == 200
    body = tab.content.decode()
    assert str(auth.public_id) in body and 'data-remaining="2"' in body
    assert "New authorization" not in body and "$" not in body
    assert client.get(LIST).status_code == 403
    assert client.get(_detail(auth)).status_code == 403
    assert client.get(f"/utilization/episodes/{stay.episode.public_id}/new/").status_code == 403
    assert client.post(f"{_detail(auth)}edit/", {}).status_code == 403
    assert client.post(f"{_detail(auth)}reviews/", {}).status_code == 403
    assert not UtilizationReview.objects.exists()


def test_director_reads_but_does_not_write(client, clinic, auth):
    login(client, clinic.director)
    assert client.get(_detail(auth)).status_code == 200
    assert client.get(f"{_detail(auth)}edit/").status_code == 403


def test_outsiders_get_404(client, clinic, stay, auth):
    login(client, clinic.stranger)  # a director elsewhere: may read billing, not this organization
    assert client.get(_detail(auth)).status_code == 404
    assert str(auth.public_id) not in client.get(LIST).content.decode()
    login(client, clinic.outsider)  # a clinician of another program: the chart is not theirs
    assert client.get(_tab(stay), headers={"HX-Request": "true"}).status_code == 404


def test_create_keeps_what_was_typed_and_names_the_field(client, clinic, stay):
    login(client, clinic.billing)
    url = f"/utilization/episodes/{stay.episode.public_id}/new/"
    assert client.get(url).status_code == 200
    form = {
        "coverage": stay.coverage.pk,
        "status": "approved",
        "number": "AUTH-77",
        "level_of_care": "iop",
        "start_date": stay.today.isoformat(),
        "end_date": (stay.today - timedelta(days=1)).isoformat(),
        "unit_kind": "days",
        "units_authorized": "12",
    }
    bad = client.post(url, form)
    assert bad.status_code == 422
    assert "must end on or after" in bad.content.decode() and 'value="AUTH-77"' in bad.content.decode()
    form["end_date"] = (stay.today + timedelta(days=13)).isoformat()
    ok = client.post(url, form)
    auth = Authorization.objects.get(number="AUTH-77")
    assert ok.status_code == 302 and ok["Location"] == _detail(auth)
    row = AuditEvent.objects.get(action=AuditAction.CREATED, object_type="authorization")
    assert "AUTH-77" not in str(row.changed_fields) and "units_authorized" in row.changed_fields


def test_an_approved_extension_updates_the_authorization_in_the_same_request(client, clinic, stay, auth):
    login(client, clinic.billing)
    new_end = stay.today + timedelta(days=20)
    response = client.post(
        f"{_detail(auth)}reviews/",
        {
            "kind": "concurrent",
            "requested_on": stay.ago(1).isoformat(),
            "outcome": "extended",
            "decided_on": stay.today.isoformat(),
            "units_granted": "7",
            "new_end_date": new_end.isoformat(),
            "reviewer": "Dr. Payer",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'data-authorized="10"' in response.content.decode()
    auth.refresh_from_db()
    assert (auth.units_authorized, auth.end_date) == (10, new_end)
    changed = AuditEvent.objects.filter(object_id=str(auth.public_id), action=AuditAction.UPDATED).get()
    assert set(changed.changed_fields) == {"units_authorized", "end_date"}


def test_a_denied_step_down_request_is_recorded_and_changes_nothing(client, clinic, auth):
    login(client, clinic.billing)
    data = {"kind": "step_down", "requested_on": "2026-12-01", "outcome": "denied", "decided_on": "2026-11-30"}
    bad = client.post(f"{_detail(auth)}reviews/", data, headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "cannot come before" in bad.content.decode()
    data["decided_on"] = "2026-12-02"
    assert client.post(f"{_detail(auth)}reviews/", data).status_code == 302
    review = UtilizationReview.objects.get()
    assert (review.kind, review.outcome) == ("step_down", "denied")
    auth.refresh_from_db()
    assert auth.status == Authorization.Status.APPROVED and auth.units_authorized == 3


def test_a_pending_review_is_decided_later(client, clinic, auth, stay):
    login(client, clinic.billing)
    data = {"kind": "concurrent", "requested_on": stay.ago(1).isoformat(), "outcome": "pending"}
    client.post(f"{_detail(auth)}reviews/", data)
    review = UtilizationReview.objects.get()
    decided = client.post(
        f"/utilization/reviews/{review.public_id}/decide/",
        {"outcome": "approved", "decided_on": stay.today.isoformat(), "units_granted": "5"},
    )
    assert decided.status_code == 302
    review.refresh_from_db()
    auth.refresh_from_db()
    assert review.outcome == "approved" and auth.units_authorized == 8
    assert AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED, object_id=str(review.public_id)).exists()


def test_the_list_is_a_fixed_number_of_queries_whatever_the_rows(client, clinic, payer_rule):
    login(client, clinic.billing)
    first = make_stay(clinic, "One")
    first.day(2)
    first.authorize(start_ago=5, end_ahead=4, units=3)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for name in ("Two", "Three", "Four"):
        more = make_stay(clinic, name)
        more.day(2)
        more.day(3)
        more.authorize(start_ago=5, end_ahead=4, units=3, unit_kind="sessions")
    assert count() == few


def test_the_chart_tab_is_a_fixed_number_of_queries(client, clinic, stay):
    stay.day(2)
    login(client, clinic.billing)
    stay.authorize(start_ago=5, end_ahead=4, units=3)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(_tab(stay), headers={"HX-Request": "true"}).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    stay.authorize(start_ago=20, end_ahead=-6, units=3, number="OLD")
    stay.authorize(start_ago=1, end_ahead=30, units=3, number="NEW", unit_kind="sessions")
    assert count() == few


def test_program_settings_change_the_flags_and_are_audited(client, clinic, stay, auth):
    url = f"/utilization/programs/{clinic.mh.public_id}/policy/"
    login(client, clinic.clinician)
    assert client.get(url).status_code == 403
    login(client, clinic.stranger)
    assert client.get(url).status_code == 404
    login(client, clinic.billing)
    assert client.get(url).status_code == 200
    values = {
        "expiring_within_days": "500",
        "units_low_at": "1",
        "review_due_within_days": "0",
        "review_lead_days": "0",
        "unauthorized_lookback_days": "30",
    }
    bad = client.post(url, values)
    assert bad.status_code == 422 and 'value="500"' in bad.content.decode()
    values["expiring_within_days"] = "2"  # the authorization ends in 4 days: no longer "ending soon"
    assert client.post(url, values).status_code == 302
    row = AuditEvent.objects.get(action=AuditAction.CONFIG_CHANGED, object_type="utilizationpolicy")
    assert set(row.changed_fields) == {"expiring_within_days", "units_low_at", "review_due_within_days",
                                       "review_lead_days"}  # fmt: skip
    body = client.get(LIST).content.decode()
    assert str(auth.public_id) in body and 'data-flag="expiring"' not in body and 'data-flag="units_low"' not in body
    login(client, clinic.director)
    assert client.get(url).status_code == 200


def test_a_program_outside_ones_own_is_refused_not_ignored(client, clinic, auth):
    login(client, clinic.billing)
    response = client.get(LIST, {"program": str(clinic.teen.pk)})
    assert response.status_code == 422 and str(auth.public_id) not in response.content.decode()
    assert client.get(LIST, {"flag": "nonsense"}).status_code == 422


def test_billing_opens_the_tab_in_the_full_chart_and_may_add_one(client, clinic, stay, auth):
    login(client, clinic.billing)
    page = client.get(f"/patients/{stay.episode.patient.public_id}/?tab=authorizations")
    assert page.status_code == 200
    body = page.content.decode()
    assert f"/utilization/episodes/{stay.episode.public_id}/new/" in body and _detail(auth) in body


def test_the_page_shows_the_level_authorized_beside_the_level_assessed(client, clinic, stay, auth):
    login(client, clinic.billing)
    assert "No signed intake rating" in client.get(_detail(auth)).content.decode()
    intake.signed(stay.episode.patient, clinic.clinician, program=clinic.mh)
    body = client.get(_detail(auth)).content.decode()
    assert 'data-level-authorized="iop"' in body and 'id="assessed-level"><div>ASAM 2.1' in body


def test_the_list_shows_episodes_with_billable_days_outside_an_authorization(client, clinic, stay, auth):
    uncovered = make_stay(clinic, "Uncovered")
    uncovered.day(3)
    login(client, clinic.billing)
    body = client.get(LIST, {"flag": "unauthorized"}).content.decode()
    assert f'data-episode="{uncovered.episode.public_id}"' in body and str(auth.public_id) not in body
    assert f"/utilization/episodes/{uncovered.episode.public_id}/new/" in body
