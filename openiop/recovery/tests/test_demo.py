"""The demo's recovery supports: substance-use patients with weeks of meetings, the program asking for check-ins,
and the ``recovery`` portal login that reads its own meeting log (a second run adding nothing is core's demo test).
The ``patient`` login (adult mental health) reaches the same page and can log a meeting."""

from __future__ import annotations

from django.urls import reverse

from openiop.core.audit import verify_chain
from openiop.demo.clinic import DEMO_PASSWORD
from openiop.demo.portal import DEMO_USERNAME
from openiop.demo.recovery import USERNAME, demo_login_line
from openiop.patients.models import SupportContact
from openiop.portal.models import PortalAccount
from openiop.programs.models import Program
from openiop.recovery.models import CapitalCheckIn, MeetingAttendance, RecoveryPolicy


def test_the_demo_recovery_supports_and_the_patients_own_log(seeded_demo, client):
    org = seeded_demo.organization
    meetings = MeetingAttendance.objects.filter(patient__organization=org)
    assert seeded_demo.seeded["recovery"] == meetings.count() > 20
    assert set(meetings.values_list("episode__program__focus", flat=True)) == {Program.Focus.SUBSTANCE_USE}
    assert meetings.values("patient").distinct().count() > 2
    weeks = {m.met_on.isocalendar()[1] for m in meetings}
    assert len(weeks) >= 3
    assert RecoveryPolicy.objects.filter(program__site__organization=org, capital_check_ins=True).exists()
    assert CapitalCheckIn.objects.filter(patient__organization=org).count() > 2
    assert SupportContact.objects.filter(patient__organization=org, relationship="sponsor").exists()
    assert verify_chain() == []

    account = PortalAccount.objects.select_related("patient").get(user__username=USERNAME)
    assert USERNAME in demo_login_line(org, 9)
    own = meetings.filter(patient=account.patient)
    assert own.exists() and set(own.values_list("entered_by__username", flat=True)) == {USERNAME}
    assert client.post(reverse("portal:login"), {"username": USERNAME, "password": DEMO_PASSWORD}).status_code == 302
    page = client.get(reverse("portal:recovery")).content.decode()
    assert 'id="meeting-log"' in page and 'class="rc-strip"' in page and 'id="capital-form"' in page
    assert own.first().kind_label in page  # type: ignore[union-attr]

    client.logout()
    assert (
        client.post(reverse("portal:login"), {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}).status_code == 302
    )
    page = client.get(reverse("portal:recovery"))
    assert page.status_code == 200 and 'id="meeting-form"' in page.content.decode()
