"""The whole episode of care in a real headless Chromium, each person on their own screen: Book Now on a phone,
intake, admission with its sessions booked, the treatment plan signed by the clinician and by the patient in the
portal, the front desk's roster check-in on the session day, a PHQ-9 with item 9 above 0 and the header's alert
acknowledged, a progress note, a hold and a resume, the step-down, the discharge with its consequences, the portal's
aftercare, and a readmission within the window.

The clock is pinned (``moving_clock``) to a Monday morning, and moved on to the session day for the check-in and
for the readmission; the live server runs in this process, so it reads the same clock. Each clock move and each
change of person starts a fresh session (``sign_in_with_session``), as that person's own device would. Screenshots
go to artifacts/journey-NN-*.png.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from openiop.testing.browser import PDF_STEP_TIMEOUT_MS, screenshot, sign_in_with_session
from openiop.testing.clock import moving_clock
from openiop.testing.fixtures import build_clinic
from openiop.testing.referrals import make_slot
from openiop.testing.scheduling import make_group, make_group_sessions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 1366}
DESK = {"width": 1280, "height": 900}
# A Monday well clear of daylight-saving changes, at 07:30 in the clinic's zone (America/New_York).
MONDAY = datetime(2031, 4, 7, 7, 30, tzinfo=ZoneInfo("America/New_York"))


def _as(page, live_server, user, viewport=DESK) -> None:
    """Hand the page to another person: their own session, their own screen size."""
    page.context.clear_cookies()
    page.set_viewport_size(viewport)
    sign_in_with_session(page, live_server, user)


def _answer(page, question: str, answer: str) -> None:
    page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def _book_now(page, live_server, clinic, slot) -> None:
    """The prospective patient on their phone: program, pre-screen, a time, their details with insurance and an
    emergency contact."""
    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/book/{clinic.org.public_id}/")
    page.locator(".card", has_text=clinic.mh.name).get_by_role("link", name="Learn more and book").click()
    page.get_by_role("link", name="Book Now").click()
    _answer(page, "Are you thinking about harming yourself or someone else right now?", "No")
    _answer(page, "Have you recently finished a stay in a hospital or a residential program?", "No")
    _answer(page, "Are mental health or substance use concerns making daily life hard", "Yes")
    _answer(page, "Do you have a stable place to live?", "Yes")
    _answer(page, "Is there at least one person (family, a friend, a sponsor) who supports you?", "Yes")
    _answer(page, "Can you attend regular sessions every week for several weeks?", "Yes")
    _answer(page, "Which times would suit you?", "Daytime")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label(re.compile(re.escape(slot.label))).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Your details").wait_for()
    page.get_by_label("First name").fill("Quinn")
    page.get_by_label("Last name").fill("Journey")
    page.get_by_label("Date of birth").fill("1991-02-14")
    page.get_by_label("Phone").fill("555-0161")
    page.get_by_label("Email").fill("quinn@example.org")
    page.get_by_label("How should we contact you?").select_option(label="Email")
    page.get_by_label("Insurance", exact=True).select_option(label="Commercial")
    page.get_by_label("Insurance company").fill("Example Health Plan")
    page.get_by_label("Member ID").fill("EXJ-4410")
    page.get_by_label("Emergency contact's name").fill("Robin Journey")
    page.get_by_label("Their relationship to you").select_option(label="Spouse / partner")
    page.get_by_label("Their number").fill("555-0162")
    screenshot(page, "journey-01-book-now-details")
    page.get_by_role("button", name="Book this appointment").click()
    page.get_by_role("heading", name="You're booked").wait_for()
    screenshot(page, "journey-02-book-now-booked")


def _save_section(page, section: str) -> None:
    page.locator(f"#section-{section}").get_by_role("button").click()
    page.locator(f"#section-{section} [role=status]").filter(has_text="Saved.").wait_for()


def _intake_assessment(page, live_server, clinic, patient) -> None:
    """The clinician's biopsychosocial assessment, signed (which moves the referral to "assessed")."""
    from openiop.intake.models import RISK_QUESTIONS

    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=intake")
    page.get_by_role("link", name="Start an intake assessment").click()
    page.get_by_role("button", name="Start").click()
    page.get_by_role("heading", name="Intake assessment").wait_for()
    page.get_by_role("textbox", name="Presenting problem").fill("Low mood and missed work for two months.")
    _save_section(page, "presenting_problem")
    for name, _ in RISK_QUESTIONS:
        page.check(f"#id_{name}_2")  # "No"
    page.get_by_label("Risk assessment and safety plan").fill("Denies ideation; safety plan reviewed.")
    _save_section(page, "risk")
    grid = page.locator("#ratings-asam3")
    for dim, value in {"d1": "0", "d2": "0", "d3": "2", "d4": "2", "d5": "1", "d6": "1"}.items():
        grid.locator(f"#id_asam3-rating_{dim}").select_option(value)
    grid.locator("#id_asam3-chosen_level").select_option("2.1")
    grid.get_by_role("button").click()
    page.locator("#ratings-asam3 [role=status]").filter(has_text="Saved.").wait_for()
    diagnoses = page.locator("#diagnoses")
    diagnoses.get_by_label("ICD-10-CM code").fill("F33.1")
    diagnoses.get_by_label("Description").fill("Major depressive disorder, recurrent, moderate")
    diagnoses.get_by_label("Primary diagnosis").check()
    diagnoses.get_by_role("button", name="Add").click()
    page.locator("#diagnoses").get_by_role("button", name="Remove F33.1").wait_for()
    page.check("#id_recommendation_1")  # Admit to IOP
    page.locator("#id_recommended_program").select_option(label=clinic.mh.name)
    _save_section(page, "recommendation")
    page.locator("#sign-panel").get_by_text("Everything signing needs is filled in.").wait_for()
    page.get_by_role("button", name="Sign and lock the assessment").click()
    page.get_by_text("Assessment signed.").wait_for()
    screenshot(page, "journey-06-intake-signed")


def _consent_to_treatment(page, live_server, patient) -> None:
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=consents")
    page.get_by_role("button", name="Record a consent").click()
    page.get_by_role("link", name="Consent to treatment").click()
    page.get_by_label("Checkbox attestation").check()
    page.get_by_label("I have read this form").check()
    page.get_by_role("button", name="Sign and record").click()
    page.get_by_text("Consent to treatment signed and recorded.").wait_for(timeout=PDF_STEP_TIMEOUT_MS)
    screenshot(page, "journey-05-consent")


def _plan(page, live_server, clinic, patient) -> None:
    """The clinician drafts the plan on the chart's Plan tab and signs it."""
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=plan")
    page.locator("#chart-tab").get_by_role("button", name="Write the plan").click()
    editor = page.locator("#plan-editor")
    editor.wait_for()
    editor.get_by_label("Strengths").fill("Keeps a job; a supportive partner.")
    editor.get_by_label("In the patient's own words").fill("I want to get back to work.")
    with page.expect_response(lambda r: r.url.endswith("/text/")):  # the editor is swapped whole after each save
        editor.get_by_role("button", name="Save strengths, barriers and the patient's words").click()
    form = editor.locator("section", has=page.get_by_role("heading", name="Add a problem"))
    form.get_by_label("Problem").fill("Low mood keeps me from work.")
    form.get_by_role("button", name="Add the problem").click()
    page.get_by_role("heading", name="Problem 1: Low mood keeps me from work.").wait_for()
    for summary, fill, button, shown in (
        ("Add a goal", {"Goal": "Mood lifts."}, "Add the goal", "Mood lifts."),
        ("Add an objective", {"Objective (measurable)": "Uses two coping skills daily, 5 of 7 days.",
                              "Target date": "2031-05-05"}, "Add the objective", "Uses two coping skills daily"),
    ):  # fmt: skip
        fold = page.locator("#plan-editor details", has=page.get_by_text(summary, exact=True)).last
        fold.locator("summary").click()
        for label, value in fill.items():
            fold.get_by_label(label).fill(value)
        fold.get_by_role("button", name=button).click()
        page.locator("#plan-editor").get_by_text(shown).first.wait_for()
    fold = page.locator("#plan-editor details", has=page.get_by_text("Add an intervention", exact=True)).last
    fold.locator("summary").click()
    fold.get_by_label("Modality").select_option("cbt_skills")
    fold.get_by_label("Frequency").fill("3x weekly")
    fold.get_by_label("Responsible").select_option(label=clinic.clinician.display_name)
    fold.get_by_role("button", name="Add the intervention").click()
    page.locator("#plan-editor").get_by_text("CBT skills group, 3x weekly").wait_for()
    page.get_by_role("button", name="Sign as the clinician").click()
    page.get_by_role("link", name="Patient signs").wait_for()
    screenshot(page, "journey-09-plan-signed-by-clinician")


def _roster_check_in(page, live_server, patient) -> None:
    """The front desk on the clinic tablet: Today, the session's roster, one tap."""
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Today").click()
    page.get_by_role("heading", name="Today's sessions").wait_for()
    page.get_by_role("link", name=re.compile("^Take attendance for")).first.click()
    row = page.get_by_role("listitem", name=patient.display_name)
    row.get_by_role("button", name="Present", exact=True).click()
    row.get_by_role("button", name="Present", exact=True).and_(page.locator('[aria-pressed="true"]')).wait_for()
    screenshot(page, "journey-12-roster")


def _portal_phq9_with_item9(page, live_server) -> None:
    page.goto(f"{live_server.url}/portal/check-ins/")
    page.get_by_role("link", name="Start").click()
    page.get_by_role("heading", name="PHQ-9").wait_for()
    for n in range(1, 10):
        page.locator(f'label[for="phq9_{n}-{1 if n in (1, 2, 9) else 0}"]').click()
    page.locator("#crisis").wait_for(state="visible")
    page.locator("#mq-progress").get_by_text("9 of 9 answered").wait_for()
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    assert page.locator("#crisis").is_visible()
    screenshot(page, "journey-13-portal-phq9-crisis")


def _progress_note(page, live_server, patient) -> None:
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=notes")
    page.locator("#chart-tab").get_by_role("button", name="Write a note").click()
    page.get_by_role("heading", name="Progress note draft").wait_for()
    screenshot(page, "journey-15-note-draft")
    for label, text in (  # the program's default format, BIRP
        ("Behavior", "Attended the morning group, engaged; PHQ-9 item 9 answered above 0."),
        ("Intervention", "Safety plan reviewed; behavioural activation."),
        ("Response", "Named two reasons for living; agreed to the plan."),
        ("Plan", "Continue the group three times a week; call the clinic or 988 if thoughts worsen."),
    ):
        page.get_by_label(re.compile(f"^{label}:?$")).fill(text)
    page.get_by_label("Start time").fill("09:00")
    page.get_by_label("Stop time").fill("09:55")
    page.get_by_label("Risk screen").select_option(index=2)
    page.get_by_label("Risk: what was found, and the safety plan").fill("Passive ideation, no plan; safety plan.")
    page.locator("input[name=objectives]").first.check()
    page.locator("input[name=diagnoses]").first.check()
    page.get_by_role("button", name="Sign and lock").click()
    page.get_by_text(re.compile("signed", re.I)).first.wait_for()
    screenshot(page, "journey-16-note-signed")


def _change_status(page, live_server, patient, label: str) -> str:
    """The Episodes tab's Change status, to ``label``; returns the confirmation shown."""
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=episodes")
    page.locator("#chart-tab").get_by_role("link", name="Change status").click()
    page.get_by_label(label).check()
    page.get_by_role("button", name="Change status").click()
    page.wait_for_url("**?tab=episodes")
    return " ".join(page.locator(".alert").all_inner_texts())


def _step_down(page, live_server, patient, op) -> str:
    """The level-of-care step-down from the Schedule tab: IOP to the clinic's OP evening track, in the same episode;
    returns what the page says was done."""
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=schedule")
    page.get_by_role("link", name="Step down / step up").click()
    move_to = page.get_by_label("Move to")
    choice = move_to.locator("option", has_text=f"Step down to OP: {op.program.name}").inner_text()
    move_to.select_option(label=choice.strip())
    page.get_by_label("From").fill((MONDAY.date() + timedelta(days=1)).isoformat())  # tomorrow's sessions move
    page.get_by_label("Reason").fill("Stable for two weeks; keeps the gains with fewer hours.")
    screenshot(page, "journey-19-step-down")
    page.get_by_role("button", name="Change level of care").click()
    page.get_by_text(f"Step down: OP in {op.program.name}").first.wait_for()
    screenshot(page, "journey-19-stepped-down")
    return page.locator("main").inner_text()


def _discharge(page, live_server, patient) -> str:
    """The clinician's discharge: reason, summary, step-down and next appointment, signed; returns the message."""
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=discharge")
    tab = page.locator("#chart-tab")
    tab.get_by_label("Discharge reason (TEDS-D)").select_option("1")
    tab.get_by_role("button", name="Start the discharge").click()
    page.get_by_role("heading", name="Discharge summary Draft").wait_for()
    summary = page.locator("#section-summary")
    summary.get_by_label("Course of treatment").fill("Attended the day track; learned two coping skills.")
    summary.get_by_label("Condition at discharge").fill("Stable; no current suicidal ideation.")
    summary.get_by_role("button", name="Save discharge summary").click()
    page.locator("#section-summary").get_by_text("Saved.").wait_for()
    step = page.locator("#section-step_down")
    step.get_by_label("Step-down level").select_option("asam_1")
    step.get_by_label("Provider").fill("Dr. Alba Mockridge")
    step.get_by_label("Organization").fill("Northside Counseling")
    step.get_by_label("Phone").fill("555-0142")
    step.get_by_role("button", name="Save step-down and next appointment").click()
    page.locator("#section-step_down").get_by_text("Saved.").wait_for()
    sign_panel = page.locator("#sign-panel")
    sign_panel.get_by_text("Everything signing needs is filled in.").wait_for()
    screenshot(page, "journey-20-discharge-ready")
    sign_panel.get_by_role("button", name="Sign the summary and discharge").click()
    page.get_by_text("Discharge summary signed; the episode is discharged").wait_for()
    screenshot(page, "journey-21-discharged")
    return page.locator("main").inner_text()


def test_an_episode_from_book_now_to_discharge_and_readmission(page, live_server, monkeypatch, settings, tmp_path):
    from openiop.patients.models import Coverage, EpisodeOfCare, SupportContact
    from openiop.referrals.models import Referral
    from openiop.scheduling.models import Booking

    settings.VAR_DIR = tmp_path  # signed PDFs go to the test's own store
    moving_clock(monkeypatch, MONDAY)
    clinic = build_clinic()
    slot = make_slot(clinic.mh, 0, 10)  # this morning's intake appointment
    group = make_group(clinic.day, "Day Group A", capacity=8)
    sessions = make_group_sessions(group, days_ahead=(0, 2, 4, 7, 9, 11), hour=9)

    # 1. Book Now on a phone: the referral lands on the staff board.
    _book_now(page, live_server, clinic, slot)
    referral = Referral.objects.get(last_name="Journey")
    assert referral.stage == Referral.Stage.SCHEDULED
    _as(page, live_server, clinic.intake)
    page.goto(f"{live_server.url}/referrals/")
    column = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Assessment scheduled"))
    column.get_by_role("link", name=re.compile("Quinn Journey")).click()
    page.get_by_role("heading", name="Quinn Journey").wait_for()
    assert "Robin Journey" in page.locator("main").inner_text()
    screenshot(page, "journey-03-referral")

    # 2. Intake: register from the referral (insurance and the emergency contact carried), consent, assessment.
    page.get_by_role("link", name="Start intake").click()
    page.get_by_role("button", name="Register and link").click()
    page.get_by_text("Patient registered and linked.").wait_for()
    screenshot(page, "journey-04-registered")
    referral.refresh_from_db()
    patient = referral.patient
    assert patient is not None
    assert [(c.payer_name, c.member_id) for c in Coverage.objects.filter(patient=patient)] == [
        ("Example Health Plan", "EXJ-4410")
    ]
    contact = SupportContact.objects.get(patient=patient)
    assert (contact.name, contact.relationship, contact.phone) == ("Robin Journey", "partner", "555-0162")
    _consent_to_treatment(page, live_server, patient)

    _as(page, live_server, clinic.clinician)
    _intake_assessment(page, live_server, clinic, patient)
    referral.refresh_from_db()
    assert referral.stage == Referral.Stage.ASSESSED

    _as(page, live_server, clinic.intake)
    page.goto(f"{live_server.url}{referral.get_absolute_url()}")
    page.get_by_role("link", name="Admit").click()
    page.get_by_label("Track").select_option(label=str(clinic.day))
    page.get_by_label("Primary clinician").select_option(label=clinic.clinician.display_name)
    screenshot(page, "journey-07-admit")
    page.get_by_role("button", name="Admit").click()
    page.wait_for_url("**?tab=episodes")
    page.get_by_text("Booked 6 sessions in Day Group A.").wait_for()
    screenshot(page, "journey-08-admitted")
    episode = EpisodeOfCare.objects.get(patient=patient)
    assert episode.status == EpisodeOfCare.Status.ACTIVE
    assert Booking.objects.filter(episode=episode, status=Booking.Status.BOOKED).count() == len(sessions)

    # The patient's portal login (the invitation flow belongs to, and is tested by, the portal).
    from openiop.portal.actions import do_accept_invitation, do_invite_patient

    invitation, _ = do_invite_patient(patient, acting_user=clinic.frontdesk)
    portal = do_accept_invitation(invitation, username="quinn", password="a long portal passphrase 2031")

    # 3. Treatment plan: the clinician drafts and signs; the patient signs in the portal.
    from openiop.plans.models import PlanVersion

    _as(page, live_server, clinic.clinician)
    _plan(page, live_server, clinic, patient)
    version = PlanVersion.objects.get(plan__episode=episode)
    _as(page, live_server, portal.user, PHONE)
    page.goto(f"{live_server.url}/portal/plan/")
    page.get_by_text("ready for your signature").wait_for()
    page.get_by_label("Type your full name to sign").fill("Quinn Journey")
    page.get_by_label("I took part in writing this plan and I agree with it.").check()
    screenshot(page, "journey-10-portal-plan")
    page.get_by_role("button", name="Sign my plan").click()
    page.get_by_text("You signed your treatment plan").wait_for()
    version.refresh_from_db()
    assert version.status == PlanVersion.Status.ACTIVE

    # 4. The session day: the front desk checks Quinn in on the tablet, ten minutes into the first group.
    from openiop.attendance.models import AttendanceRecord

    moving_clock(monkeypatch, datetime.combine(MONDAY.date(), time(9, 10), tzinfo=MONDAY.tzinfo))
    _as(page, live_server, clinic.frontdesk, TABLET)
    _roster_check_in(page, live_server, patient)
    record = AttendanceRecord.objects.get(session=sessions[0], patient=patient)
    assert record.status == AttendanceRecord.Status.PRESENT

    # 5. The PHQ-9 due this week, answered in the portal with item 9 above 0: the header shows the alert.
    from openiop.measures.models import SafetyAlert
    from openiop.testing.measures import start

    start(patient, clinic.clinician, "phq9")
    _as(page, live_server, portal.user, PHONE)
    _portal_phq9_with_item9(page, live_server)
    alert = SafetyAlert.objects.get(patient=patient)
    assert alert.status == SafetyAlert.Status.OPEN
    _as(page, live_server, clinic.clinician)
    page.goto(f"{live_server.url}{patient.get_absolute_url()}?tab=schedule")
    flag = page.locator(".chart-glance").locator('[data-flag="safety-alert"]')
    flag.wait_for()
    screenshot(page, "journey-14-header-alert")
    flag.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"{live_server.url}{patient.get_absolute_url()}*")
    assert page.locator('[data-flag="safety-alert"]').count() == 0
    alert.refresh_from_db()
    assert alert.status == SafetyAlert.Status.ACKNOWLEDGED

    # 6. The progress note, written and signed.
    from openiop.notes.models import ProgressNote

    _progress_note(page, live_server, patient)
    note = ProgressNote.objects.get(episode=episode)
    assert note.status == "signed"

    # 7. Hold, then resume: the upcoming bookings released, then booked again.
    def booked() -> int:
        return Booking.objects.filter(episode=episode, status=Booking.Status.BOOKED).count()

    upcoming = len(sessions) - 1  # this morning's group has started
    held = _change_status(page, live_server, patient, "Put on hold")
    screenshot(page, "journey-17-on-hold")
    assert booked() == 1 and f"{upcoming} upcoming sessions released" in held, held
    resumed = _change_status(page, live_server, patient, "Resume (active)")
    screenshot(page, "journey-18-resumed")
    assert booked() == len(sessions) and f"{upcoming} sessions booked again" in resumed, resumed

    # 8. The step-down to the outpatient program: the IOP's upcoming sessions cancelled, the OP's booked.
    from openiop.scheduling.models import Enrollment
    from openiop.testing.levels import add_op

    op = add_op(clinic, days_ahead=(1, 3, 8, 10))
    stepped = _step_down(page, live_server, patient, op)
    episode.refresh_from_db()
    assert (episode.program, episode.level_of_care) == (op.program, "op")
    assert [p["level"] for p in episode.level_history] == ["iop", "op"]
    assert Enrollment.objects.get(episode=episode, ends_on__isnull=True).track == op.track
    assert f"{upcoming} future sessions in {clinic.mh.name} cancelled" in stepped, stepped
    assert booked() == 1 + len(op.sessions)  # this morning's group, started before the change, keeps its seat
    upcoming = len(op.sessions)

    # 9. Discharge. Before it, the OP group's last session is full and Sam waits for a seat in it.
    from openiop.reminders.models import Reminder
    from openiop.scheduling.actions.booking import do_join_waitlist
    from openiop.scheduling.models import Session, WaitlistEntry
    from openiop.testing.scheduling import admit

    full = op.sessions[-1]
    Session.objects.filter(pk=full.pk).update(capacity=1)
    sam = admit(clinic, "Sam", program=op.program, legal_last_name="Waiting", admitted_days_ago=0)
    waiting = do_join_waitlist(sam, acting_user=clinic.frontdesk, session=full)
    from openiop.reminders.actions import do_set_reminder_preferences
    from openiop.reminders.planner import plan_reminders

    do_set_reminder_preferences(patient, acting_user=clinic.frontdesk, email_opt_in=True, sms_opt_in=False)
    plan_reminders()  # the worker's periodic job
    assert Reminder.objects.filter(patient=patient, status="pending", kind="session").exists()
    shown = _discharge(page, live_server, patient)
    episode.refresh_from_db()
    assert episode.status == EpisodeOfCare.Status.DISCHARGED
    assert not Booking.objects.filter(
        episode=episode, status=Booking.Status.BOOKED, session__starts_at__gt=MONDAY + timedelta(hours=3)
    ).exists()
    assert f"{upcoming} future sessions cancelled" in shown, shown
    assert "offered to the waitlist" in shown, shown
    waiting.refresh_from_db()
    assert (waiting.status, waiting.session_id) == (WaitlistEntry.Status.OFFERED, full.pk)
    plan_reminders()
    pending = Reminder.objects.filter(patient=patient, status="pending")
    assert {r.kind for r in pending} <= {"follow_up"}, list(pending.values_list("kind", flat=True))

    # 10. The portal on the phone: aftercare, no next sessions.
    _as(page, live_server, portal.user, PHONE)
    page.goto(f"{live_server.url}/portal/")
    page.get_by_role("heading", name="Your program has ended").wait_for()
    assert page.get_by_role("heading", name="Your next sessions").count() == 0
    screenshot(page, "journey-22-portal-ended")
    page.goto(f"{live_server.url}/portal/aftercare/")
    page.get_by_text("Northside Counseling").first.wait_for()
    screenshot(page, "journey-23-portal-aftercare")

    # 11. Nine days later a new referral: linked to the record, admitted, the readmission flagged.
    from openiop.testing.referrals import make_referral

    moving_clock(monkeypatch, datetime.combine(MONDAY.date() + timedelta(days=9), time(7, 30), tzinfo=MONDAY.tzinfo))
    make_group_sessions(group, days_ahead=(0, 2, 4), hour=9)
    again = make_referral(clinic, first_name="Quinn", last_name="Journey", date_of_birth=patient.date_of_birth,
                          phone="555-0161", email="quinn@example.org", stage=Referral.Stage.SCREENING)  # fmt: skip
    _as(page, live_server, clinic.intake)
    page.goto(f"{live_server.url}{again.get_absolute_url()}")
    page.get_by_role("link", name="Start intake").click()
    screenshot(page, "journey-24-readmission-match")
    page.get_by_role("button", name="Link this record").click()
    page.get_by_text("Linked to the existing record.").wait_for()
    from openiop.referrals.actions import do_mark_assessed

    again.refresh_from_db()
    do_mark_assessed(again, acting_user=clinic.clinician)  # the readmission's assessment is not the point here
    page.goto(f"{live_server.url}{again.get_absolute_url()}admit/")
    page.get_by_label("Track").select_option(label=str(clinic.day))
    page.get_by_label("Primary clinician").select_option(label=clinic.clinician.display_name)
    page.get_by_role("button", name="Admit").click()
    page.wait_for_url("**?tab=episodes")
    page.get_by_text(re.compile("Readmission within 30 days")).first.wait_for()
    screenshot(page, "journey-25-readmitted")
    new = EpisodeOfCare.objects.filter(patient=patient).latest("created_at")
    assert new.pk != episode.pk and new.previous_episode == episode
    assert new.status == EpisodeOfCare.Status.ACTIVE
    page.goto(f"{live_server.url}{again.get_absolute_url()}")
    page.locator("#readmission-flag").wait_for()
    screenshot(page, "journey-26-readmission-referral")
