"""The discharge summary's aftercare plan carries the recovery supports: the meetings logged in the episode (how
many, which kinds, from when to when) and the sponsor, on the summary page and in the patient's copy."""

from __future__ import annotations

from django.urls import reverse

from openiop.recovery.actions import do_set_sponsor
from openiop.recovery.summary import recovery_supports
from openiop.recovery.tests.support import log_meetings
from openiop.testing.discharge import signed
from openiop.testing.pdftext import plain_text


def test_the_aftercare_plan_says_what_meetings_were_logged_and_who_the_sponsor_is(client, clinic, su_patient, account):
    episode = su_patient.episodes.get()
    assert not recovery_supports(episode).any
    first, *_ = log_meetings(su_patient, account.user, days=(9, 2))
    log_meetings(su_patient, account.user, days=(1,), kind="smart")
    do_set_sponsor(su_patient, acting_user=account.user, name="Dana Whitfield", phone="555-0177")
    supports = recovery_supports(episode)
    assert (supports.meetings, supports.kinds, supports.first) == (
        3, [("Alcoholics Anonymous (AA)", 2), ("SMART Recovery", 1)], first.met_on,
    )  # fmt: skip
    summary = signed(episode, clinic.director)
    client.force_login(clinic.director)
    page = client.get(reverse("discharge:detail", args=[summary.public_id])).content.decode()
    line = page[page.index('id="aftercare-recovery"') :].split("</dd>")[0]
    assert "3 mutual-help meetings logged" in line and "SMART Recovery 1" in line and "Sponsor: Dana Whitfield" in line
    text = plain_text(client.get(reverse("discharge:aftercare_pdf", args=[summary.public_id])).content)
    assert "Recovery supports" in text and "Alcoholics Anonymous (AA) 2" in text and "Dana Whitfield, 555-0177" in text


def test_without_meetings_or_sponsor_the_line_says_none(client, clinic, su_patient):
    summary = signed(su_patient.episodes.get(), clinic.director)
    client.force_login(clinic.director)
    page = client.get(reverse("discharge:detail", args=[summary.public_id])).content.decode()
    assert page[page.index('id="aftercare-recovery"') :].split("</dd>")[0].endswith(">—")
