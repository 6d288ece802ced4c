"""Staff accounts: the list, creating, editing, switching off, and the MFA reset button."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.models import User
from openiop.conftest import login
from openiop.core.models import AuditAction, AuditEvent
from openiop.core.roles import Role
from openiop.programs.tests.pages import is_checked, messages_of, table_row
from openiop.testing.fixtures import staff

LIST = reverse("programs:staff_list")
CREATE = reverse("programs:staff_create")
STRONG = "a river runs through it 42"


def _create_data(clinic, **overrides):
    data = {
        "username": "newclinician",
        "first_name": "Morgan",
        "last_name": "Lee",
        "email": "morgan@example.org",
        "role": Role.CLINICIAN,
        "credentials": "LPC",
        "title": "Therapist",
        "phone": "555-0123",
        "supervisor": "",
        "programs": [clinic.mh.pk, clinic.su.pk],
        "password1": STRONG,
        "password2": STRONG,
    }
    data.update(overrides)
    return data


def _edit_data(clinic, member, **overrides):
    data = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email,
        "role": member.role,
        "credentials": member.credentials,
        "title": member.title,
        "phone": member.phone,
        "supervisor": member.supervisor.pk if member.supervisor else "",
        "programs": list(member.programs.values_list("pk", flat=True)),
    }
    data.update(overrides)
    return data


def _enrol(user):
    return TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)


# --- list -------------------------------------------------------------------------------------------------


def _row(page, username):
    return table_row(page, username)


def test_list_shows_role_credentials_programs_status_and_mfa(client, clinic):
    _enrol(clinic.director)
    TOTPDevice.objects.create(user=clinic.clinician, name="Never confirmed", confirmed=False)
    page = login(client, clinic.sysadmin).get(LIST).content.decode()
    director = _row(page, "director")
    assert "Program director" in director and "PhD" in director
    assert "Adult Mental Health IOP" in director and "Adult Substance Use IOP" in director
    assert "Enrolled" in director and "Active" in director
    assert "Not enrolled" in _row(page, "clinician")
    assert "Supervised by Clinician Tester" in _row(page, "intern")
    assert "stranger" not in page


def test_list_query_count_does_not_grow_with_staff(client, clinic, django_assert_max_num_queries):
    login(client, clinic.sysadmin)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for n in range(6):
        member = staff(clinic.org, f"extra{n}", Role.CLINICIAN, [clinic.mh, clinic.su], supervisor=None)
        _enrol(member)
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    assert "extra5" in response.content.decode()
    assert len(many) == len(few)
    with django_assert_max_num_queries(12):
        client.get(LIST)


def test_reset_mfa_button_posts_to_the_accounts_view_with_a_way_back(client, clinic):
    _enrol(clinic.clinician)
    page = login(client, clinic.sysadmin).get(LIST).content.decode()
    action = reverse("accounts:mfa_reset", args=[clinic.clinician.public_id])
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, flags=re.S)
    assert form is not None
    assert f'name="next" value="{LIST}"' in form.group(0)
    assert reverse("accounts:mfa_reset", args=[clinic.director.public_id]) not in page  # not enrolled


def test_reset_mfa_from_the_list_removes_the_device_and_comes_back(client, clinic):
    _enrol(clinic.clinician)
    login(client, clinic.sysadmin)
    response = client.post(
        reverse("accounts:mfa_reset", args=[clinic.clinician.public_id]), {"next": LIST}, follow=True
    )
    assert response.redirect_chain[-1][0] == LIST
    assert not TOTPDevice.objects.filter(user=clinic.clinician).exists()
    assert "Not enrolled" in _row(response.content.decode(), "clinician")


def test_edit_page_offers_the_mfa_reset(client, clinic):
    _enrol(clinic.clinician)
    url = reverse("programs:staff_edit", args=[clinic.clinician.public_id])
    page = login(client, clinic.sysadmin).get(url).content.decode()
    assert f'action="{reverse("accounts:mfa_reset", args=[clinic.clinician.public_id])}"' in page
    assert f'name="next" value="{url}"' in page


def test_auditor_reads_the_list_without_buttons(client, clinic):
    _enrol(clinic.clinician)
    page = login(client, clinic.auditor).get(LIST).content.decode()
    assert "clinician" in page
    assert "mfa-reset" not in page
    assert reverse("programs:staff_create") not in page


# --- create -----------------------------------------------------------------------------------------------


def test_create_with_a_password_and_programs_is_audited(client, clinic):
    login(client, clinic.sysadmin)
    response = client.post(CREATE, _create_data(clinic))
    assert response.status_code == 302
    member = User.objects.get(username="newclinician")
    assert member.organization == clinic.org
    assert member.check_password(STRONG)
    assert set(member.programs.all()) == {clinic.mh, clinic.su}
    assert (member.role, member.credentials, member.title) == (Role.CLINICIAN, "LPC", "Therapist")
    event = AuditEvent.objects.get(object_id=str(member.public_id))
    assert (event.action, event.actor) == (AuditAction.STAFF_CHANGED, clinic.sysadmin)
    assert STRONG not in str(event.changed_fields)


def test_create_with_password_later_gives_an_account_that_cannot_log_in(client, clinic):
    login(client, clinic.sysadmin)
    response = client.post(
        CREATE, _create_data(clinic, password1="", password2="", set_password_later="on"), follow=True
    )
    member = User.objects.get(username="newclinician")
    assert not member.has_usable_password()
    assert messages_of(response) == ["Account newclinician created. Set a password before they can log in."]


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        ("", "", "Give an initial password"),
        ("short1", "short1", "too short"),
        ("password123456", "password123456", "too common"),
        ("morganleeexample", "morganleeexample", "too similar"),
        (STRONG, STRONG + "x", "The two passwords differ."),
    ],
)
def test_weak_or_missing_passwords_are_refused_and_other_input_stays(client, clinic, password, again, message):
    login(client, clinic.sysadmin)
    response = client.post(CREATE, _create_data(clinic, password1=password, password2=again))
    errors = response.context["form"].errors
    assert set(errors) <= {"password1", "password2"}
    assert message in " ".join(errors.get("password1", []) + errors.get("password2", []))
    page = response.content.decode()
    assert 'value="newclinician"' in page and 'value="morgan@example.org"' in page
    assert is_checked(page, "programs", clinic.su.pk) and not is_checked(page, "programs", clinic.teen.pk)
    assert password not in page or not password
    assert not User.objects.filter(username="newclinician").exists()


def test_duplicate_username_is_a_username_error(client, clinic):
    login(client, clinic.sysadmin)
    response = client.post(CREATE, _create_data(clinic, username="clinician"))
    assert list(response.context["form"].errors) == ["username"]


def test_supervised_clinician_needs_a_supervisor(client, clinic):
    login(client, clinic.sysadmin)
    response = client.post(CREATE, _create_data(clinic, role=Role.SUPERVISED_CLINICIAN))
    assert response.context["form"].errors["supervisor"] == ["A supervised clinician needs a supervisor to co-sign."]
    client.post(CREATE, _create_data(clinic, role=Role.SUPERVISED_CLINICIAN, supervisor=clinic.clinician.pk))
    assert User.objects.get(username="newclinician").supervisor == clinic.clinician


def test_only_clinicians_and_directors_are_offered_as_supervisors(client, clinic):
    form = login(client, clinic.sysadmin).get(CREATE).context["form"]
    offered = set(form.fields["supervisor"].queryset)
    assert {clinic.clinician, clinic.director, clinic.outsider} <= offered
    assert not offered & {clinic.intern, clinic.frontdesk, clinic.sysadmin, clinic.stranger}
    response = client.post(CREATE, _create_data(clinic, role=Role.SUPERVISED_CLINICIAN, supervisor=clinic.intake.pk))
    assert "supervisor" in response.context["form"].errors


def test_a_supervisor_is_dropped_for_other_roles(client, clinic):
    login(client, clinic.sysadmin)
    client.post(CREATE, _create_data(clinic, supervisor=clinic.clinician.pk))
    assert User.objects.get(username="newclinician").supervisor is None


def test_programs_of_another_organization_are_refused(client, clinic):
    login(client, clinic.sysadmin)
    foreign = clinic.stranger.programs.get()
    response = client.post(CREATE, _create_data(clinic, programs=[foreign.pk]))
    assert list(response.context["form"].errors) == ["programs"]


# --- edit -------------------------------------------------------------------------------------------------


def test_edit_changes_role_and_programs_and_is_audited(client, clinic):
    login(client, clinic.sysadmin)
    url = reverse("programs:staff_edit", args=[clinic.frontdesk.public_id])
    response = client.post(
        url, _edit_data(clinic, clinic.frontdesk, role=Role.INTAKE, programs=[clinic.mh.pk, clinic.su.pk])
    )
    assert response.status_code == 302
    clinic.frontdesk.refresh_from_db()
    assert clinic.frontdesk.role == Role.INTAKE
    assert set(clinic.frontdesk.programs.all()) == {clinic.mh, clinic.su}
    event = AuditEvent.objects.filter(object_id=str(clinic.frontdesk.public_id)).latest("chain_index")
    assert (event.action, event.changed_fields) == (AuditAction.STAFF_CHANGED, ["programs", "role"])


def test_edit_form_starts_with_the_current_values(client, clinic):
    login(client, clinic.sysadmin)
    form = client.get(reverse("programs:staff_edit", args=[clinic.intern.public_id])).context["form"]
    assert form.initial["supervisor"] == clinic.clinician
    assert form.initial["programs"] == [clinic.mh.pk]
    assert "username" not in form.fields and "password1" not in form.fields


def test_an_inactive_program_stays_ticked_on_edit(client, clinic):
    from openiop.programs.actions import do_set_program_active

    do_set_program_active(clinic.teen, acting_user=clinic.sysadmin, active=False)
    login(client, clinic.sysadmin)
    form = client.get(reverse("programs:staff_edit", args=[clinic.outsider.public_id])).context["form"]
    assert clinic.teen in form.fields["programs"].queryset
    other = client.get(reverse("programs:staff_edit", args=[clinic.clinician.public_id])).context["form"]
    assert clinic.teen not in other.fields["programs"].queryset


def test_sysadmin_cannot_change_own_role(client, clinic):
    login(client, clinic.sysadmin)
    url = reverse("programs:staff_edit", args=[clinic.sysadmin.public_id])
    response = client.post(url, _edit_data(clinic, clinic.sysadmin, role=Role.CLINICIAN))
    assert response.context["form"].errors["role"] == ["You cannot change your own role."]
    clinic.sysadmin.refresh_from_db()
    assert clinic.sysadmin.role == Role.SYSADMIN


# --- deactivate -------------------------------------------------------------------------------------------


def test_deactivate_and_reactivate_are_audited(client, clinic):
    login(client, clinic.sysadmin)
    url = reverse("programs:staff_set_active", args=[clinic.billing.public_id])
    client.post(url, {"active": "0"})
    clinic.billing.refresh_from_db()
    assert not clinic.billing.is_active
    assert "Inactive" in _row(client.get(LIST).content.decode(), "billing")
    client.post(url, {"active": "1"})
    clinic.billing.refresh_from_db()
    assert clinic.billing.is_active
    actions = AuditEvent.objects.filter(object_id=str(clinic.billing.public_id)).values_list("action", flat=True)
    assert list(actions)[-2:] == [AuditAction.DEACTIVATED, AuditAction.REACTIVATED]


def test_sysadmin_cannot_deactivate_self(client, clinic):
    login(client, clinic.sysadmin)
    url = reverse("programs:staff_set_active", args=[clinic.sysadmin.public_id])
    response = client.post(url, {"active": "0"}, follow=True)
    clinic.sysadmin.refresh_from_db()
    assert clinic.sysadmin.is_active
    assert "You cannot deactivate your own account." in messages_of(response)
    assert url not in _row(response.content.decode(), "sysadmin")


def test_a_deactivated_account_is_logged_out_of_the_next_request(client, clinic):
    login(client, clinic.sysadmin)
    client.post(reverse("programs:staff_set_active", args=[clinic.director.public_id]), {"active": "0"})
    client.logout()
    login(client, clinic.director)
    clinic.director.refresh_from_db()
    assert not clinic.director.is_active
    assert client.get(reverse("programs:index")).status_code == 302
