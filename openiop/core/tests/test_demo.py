import re
from datetime import date, datetime, time
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import AutoField, BigAutoField, Max, Min, Model, SmallAutoField, UUIDField

import openiop.demo
from openiop.accounts.actions import do_create_staff
from openiop.core.audit import verify_chain
from openiop.core.roles import Role
from openiop.demo.clinic import DEMO_ORGANIZATION, DEMO_PASSWORD, build_demo_clinic, local_moment, seed_demo_records
from openiop.demo.measures import ensure_demo_measures
from openiop.programs.actions import do_create_organization
from openiop.programs.models import Organization
from openiop.testing.clock import moving_clock

TODAY = date(2026, 11, 26)  # a Thursday


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # The demo hashes ten passwords per run; Argon2 makes that the slowest part of these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_demo(*args: str) -> str:
    # The clinic only unless told: its calendar is slow to build (the whole demo is the shared seeded_demo).
    out = StringIO()
    call_command("demo", *(args or ("--skip-schedule",)), stdout=out)
    return out.getvalue()


def _models() -> list[type[Model]]:
    return [m for m in apps.get_models(include_auto_created=True) if not m._meta.proxy]


def _integer_pk(model: type[Model]) -> bool:
    return isinstance(model._meta.pk, (AutoField, BigAutoField, SmallAutoField))


def _last_pks() -> dict[type[Model], int]:
    return {m: m._default_manager.aggregate(n=Max("pk"))["n"] or 0 for m in _models() if _integer_pk(m)}


# Random by design (salted passwords, the hashes of invitation and booking links' tokens), or holding the keys of
# other rows, which differ between builds (the audit chain's hashes and object ids, a reminder's dedupe key): left
# out of the comparison.
UNCOMPARED = {
    "password",
    "token_hash",
    "manage_token_hash",
    "prev_hash",
    "row_hash",
    "object_id",
    "organization_id_ref",
    "dedupe_key",
}
# Random public ids (UUIDField, left out) also appear inside other values, such as a work task's trigger key.
A_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def every_row(after: dict[type[Model], int] | None = None) -> dict[str, list[tuple]]:
    """Every row, or with ``after`` (each table's last key before a build) the rows the build wrote, comparable
    between two builds: keys counted from the table's first new row (PostgreSQL's sequences are not rolled back, so
    a second build's keys start higher), times cut to their day (the seeders write at the clock's time, a little
    apart from build to build), random values left out."""
    if after is None:
        return {
            m._meta.label: list(
                m._default_manager.order_by("pk").values_list(*[f.attname for f in m._meta.concrete_fields])
            )
            for m in _models()
        }
    first = {m: m._default_manager.filter(pk__gt=last).aggregate(n=Min("pk"))["n"] for m, last in after.items()}

    def key(model: type[Model], pk: object) -> object:
        last, start = after.get(model), first.get(model)
        if last is None or start is None or not isinstance(pk, int) or pk <= last:
            return pk
        return ("new", pk - start)

    rows: dict[str, list[tuple]] = {}
    for model in _models():
        fields = [f for f in model._meta.concrete_fields if f.name not in UNCOMPARED and not isinstance(f, UUIDField)]
        found = []
        for values in model._default_manager.order_by("pk").values_list(*[f.attname for f in fields]):
            row = []
            for field, value in zip(fields, values, strict=True):
                if field.primary_key:
                    value = key(model, value)
                elif field.is_relation and isinstance(field.related_model, type):
                    value = key(field.related_model, value)
                elif isinstance(value, datetime):
                    value = value.date()
                elif isinstance(value, str):
                    value = A_UUID.sub("<uuid>", value)
                row.append(value)
            if isinstance(row[0], tuple):  # a row the build wrote
                found.append(tuple(row))
        rows[model._meta.label] = found
    return rows


# The demo modules that draw random numbers (each from its own seeded generator); every other seeder derives its
# records from the clinic's by rule.
RANDOM_DEMOS = {"attendance", "clinic", "measures"}


def test_only_the_clinic_measures_and_attendance_demos_draw_random_numbers():
    # The determinism test below builds the clinic and its measures: a seeder that starts drawing random numbers
    # belongs in it (and in RANDOM_DEMOS); the attendance history's generator is seeded the same way.
    demo_dir = Path(openiop.demo.__file__).parent
    drawing = {f.stem for f in demo_dir.glob("*.py") if re.search(r"^\s*(import|from) random\b", f.read_text(), re.M)}
    assert drawing == RANDOM_DEMOS


def test_two_builds_on_the_same_day_give_the_same_demo(db, monkeypatch):
    # The demo without its calendar, as far as it draws random numbers: the clinic and its measures, whose every
    # table is compared, row by row in the order written (the calendar and history draw from seeded generators too).
    def build_and_roll_back() -> dict[str, list[tuple]]:
        moving_clock(monkeypatch, local_moment(TODAY, time(11), "America/New_York"))
        after = _last_pks()
        with transaction.atomic():
            org = build_demo_clinic(TODAY).organization
            assert ensure_demo_measures(org, TODAY) is True
            rows = every_row(after)
            transaction.set_rollback(True)
        return rows

    first = build_and_roll_back()
    assert not Organization.objects.filter(name=DEMO_ORGANIZATION).exists()
    second = build_and_roll_back()
    assert [label for label in first if first[label] != second[label]] == []
    assert len(first["patients.Patient"]) == 60 and len(first["measures.Administration"]) > 300


def test_a_second_run_changes_nothing_in_any_app(seeded_demo):
    # Every app's seeder at once: a second `openiop demo` over the whole demo (clinic, calendar, history and
    # records) writes no row, changes none and audits nothing.
    before = every_row()

    output = run_demo("--history-weeks", "2")
    # Each seeder says it made nothing (the portal's returns the login it made the first time).
    again = seed_demo_records(seeded_demo.organization, seeded_demo.today)

    after = every_row()
    assert [label for label in before if after[label] != before[label]] == []
    assert "already there, nothing changed" in output.splitlines()[0]
    assert "Calendar already there" in output and "Attendance history already there, nothing changed" in output
    assert {app: made for app, made in again.items() if made and app != "portal"} == {}
    assert again["portal"] == seeded_demo.seeded["portal"]


# The output tests run the command over the shared demo (the seeded_demo fixture, built by the same command from an
# empty database): the logins and the MFA lines are printed on every run, the first or a later one.
def test_output_lists_every_login_with_the_url_and_password(seeded_demo, monkeypatch):
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


def test_output_says_who_must_enrol_an_authenticator_app(seeded_demo, settings):
    settings.MFA_REQUIRED_ROLES = ["clinician"]

    output = run_demo()

    clinician_line = next(line for line in output.splitlines() if line.startswith("  clinician "))
    billing_line = next(line for line in output.splitlines() if line.startswith("  billing "))
    assert "authenticator app" in clinician_line
    assert "authenticator app" not in billing_line
    assert "MFA_REQUIRED_ROLES is clinician" in output


def test_output_says_mfa_is_off_when_no_role_requires_it(seeded_demo, settings):
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
