import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from openiop.accounts.actions import do_create_staff
from openiop.core.audit import verify_chain
from openiop.core.roles import Role
from openiop.demo.clinic import DEMO_ORGANIZATION, DEMO_PASSWORD, build_demo_clinic
from openiop.patients.models import Patient
from openiop.programs.actions import do_create_organization
from openiop.programs.models import Organization

TODAY = date(2026, 3, 9)


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # The demo hashes ten passwords per run; Argon2 makes that the slowest part of these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_demo() -> str:
    # The clinic only: its calendar is slow to build and has its own tests (scheduling/tests/test_demo_schedule.py).
    out = StringIO()
    call_command("demo", "--skip-schedule", stdout=out)
    return out.getvalue()


def test_two_builds_on_the_same_day_give_the_same_clinic(db):
    def build_and_roll_back() -> list[tuple]:
        with transaction.atomic():
            org = build_demo_clinic(TODAY).organization
            rows = list(
                Patient.objects.filter(organization=org)
                .order_by("mrn")
                .values_list("mrn", "legal_first_name", "legal_last_name", "date_of_birth", "episodes__admitted_on")
            )
            transaction.set_rollback(True)
        return rows

    first = build_and_roll_back()
    assert not Organization.objects.filter(name=DEMO_ORGANIZATION).exists()
    assert build_and_roll_back() == first
    assert len({(r[1], r[2]) for r in first}) == 60


# The output tests run the command over the shared demo (the demo_command fixture, built by the same command from an
# empty database): the logins and the MFA lines are printed on every run, the first or a later one.
def test_output_lists_every_login_with_the_url_and_password(demo_command, monkeypatch):
    monkeypatch.setenv("PORT", "8123")

    output = run_demo()

    assert "http://127.0.0.1:8123" in output
    assert DEMO_PASSWORD in output
    for username in [
        "director",
        "clinician",
        "therapist",
        "counselor",
        "intern",
        "intake",
        "frontdesk",
        "billing",
        "privacy",
    ]:
        assert re.search(rf"^  {username} ", output, re.MULTILINE)
    assert "Program director" in output


def test_output_says_who_must_enrol_an_authenticator_app(demo_command, settings):
    settings.MFA_REQUIRED_ROLES = ["clinician"]

    output = run_demo()

    clinician_line = next(line for line in output.splitlines() if line.startswith("  clinician "))
    billing_line = next(line for line in output.splitlines() if line.startswith("  billing "))
    assert "authenticator app" in clinician_line
    assert "authenticator app" not in billing_line
    assert "MFA_REQUIRED_ROLES is clinician" in output


def test_output_says_mfa_is_off_when_no_role_requires_it(demo_command, settings):
    settings.MFA_REQUIRED_ROLES = []

    output = run_demo()

    assert "MFA_REQUIRED_ROLES is empty" in output
    assert "authenticator app at first login" not in output


def test_a_taken_demo_username_stops_the_command_and_leaves_nothing_behind(db):
    other = do_create_organization(acting_user=None, name="Someone Else")
    do_create_staff(acting_user=None, organization=other, username="clinician", password=None, role=Role.CLINICIAN)

    with pytest.raises(CommandError, match="clinician"):
        run_demo()

    assert not Organization.objects.filter(name=DEMO_ORGANIZATION).exists()
    assert verify_chain() == []
