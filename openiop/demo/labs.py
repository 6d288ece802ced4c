"""The demo clinic's drug testing: the adult substance-use program tests a random 30% of its active patients each
week, with three past weeks drawn (fixed seeds, so the demo comes out the same every time), their cups collected
and read, one lab send-out whose results came back as an HL7 ORU^R01 message, and two unexpected results (fentanyl,
cocaine) waiting for the clinician's review: open work-queue tasks and the chart header flag.

Results are read against the medication list: the first patients are on buprenorphine, one on methadone. Another
engineer's demo (``demo/medications.py``) may have written medications already; a patient who has any is left as
they are, and only a patient with none gets the MOUD this demo needs. Idempotent: a program that already has a
testing schedule is left alone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction

from openiop.labs import actions, interpret
from openiop.labs.imports import do_import
from openiop.labs.jobs import draw_for
from openiop.labs.models import TestingSchedule, TestOrder
from openiop.medications import formulary
from openiop.medications.models import Medication
from openiop.medications.queries import active_ingredients
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Organization, Program

PERCENT = 30
SEEDS = (4_100_331, 4_100_332, 4_100_333)  # one per past week, oldest first
# Each patient's MOUD by their place in the program (admission order); the rest take none.
MOUD = ("buprenorphine-naloxone-film", "buprenorphine-naloxone-film", "methadone-otp")


def _program(organization: Organization) -> Program | None:
    return (
        Program.objects.filter(
            site__organization=organization,
            focus=Program.Focus.SUBSTANCE_USE,
            population=Program.Population.ADULT,
            is_active=True,
        )
        .select_related("site")
        .order_by("name")
        .first()
    )


def _episodes(program: Program) -> list[EpisodeOfCare]:
    return list(
        EpisodeOfCare.objects.filter(
            program=program, status=EpisodeOfCare.Status.ACTIVE, primary_clinician__isnull=False
        )
        .select_related("patient", "primary_clinician", "program__site")
        .order_by("admitted_on", "patient__mrn")
    )


def _ensure_moud(episodes: list[EpisodeOfCare]) -> None:
    for episode, key in zip(episodes, MOUD, strict=False):
        if Medication.objects.filter(patient=episode.patient).exists():
            continue
        item = formulary.item(key)
        assert item is not None and episode.primary_clinician is not None
        Medication.objects.create(
            patient=episode.patient, episode=episode, recorded_by=episode.primary_clinician, formulary_key=key,
            name=item.name, ingredients=[i.name for i in item.ingredients], rxcuis=[i.rxcui for i in item.ingredients],
            is_moud=item.moud, start_date=episode.admitted_on, prescriber="Dr. Lena Ortiz",
            reason="Opioid use disorder", source=Medication.Source.OTP if key == "methadone-otp" else
            Medication.Source.EXTERNAL_PRESCRIBER,
        )  # fmt: skip


def ensure_demo_labs(organization: Organization, today: date) -> int:
    """Returns how many tests were ordered (0 when the program already has a schedule, or there is none)."""
    program = _program(organization)
    if program is None or TestingSchedule.objects.filter(program=program).exists():
        return 0
    episodes = _episodes(program)
    if not episodes:
        return 0
    return _build(program, episodes, today)


def _collected_at(program: Program, day: date) -> datetime:
    return datetime.combine(day, time(10, 15), tzinfo=program.tz())


@transaction.atomic
def _build(program: Program, episodes: list[EpisodeOfCare], today: date) -> int:
    _ensure_moud(episodes)
    lead = episodes[0].primary_clinician
    assert lead is not None
    schedule = actions.do_set_schedule(
        program, acting_user=lead, mode="random", percent=PERCENT, weekdays=[], kind="cup", is_active=True
    )
    this_monday = today - timedelta(days=today.weekday())
    made = 0
    unexpected = {"FTY": False, "COC": False}
    for weeks_ago, seed in zip((3, 2, 1), SEEDS, strict=True):
        pick = draw_for(schedule, this_monday - timedelta(weeks=weeks_ago), seed=seed)
        if pick is None:
            continue
        orders = TestOrder.objects.filter(pick=pick).select_related("episode__primary_clinician", "patient")
        for n, order in enumerate(orders.order_by("due_on", "episode__patient__mrn")):
            made += 1
            collector = order.episode.primary_clinician or lead
            when = _collected_at(program, order.due_on)
            if weeks_ago == 2 and n == 1:
                actions.do_record_collection(order, acting_user=collector, collected_at=when, outcome="refused",
                                             note="Declined; offered again next week.")  # fmt: skip
                continue
            actions.do_record_collection(
                order, acting_user=collector, collected_at=when, specimen_id=f"CUP-{order.due_on:%y%m%d}-{n + 1:02d}",
                observed=n % 2 == 0, temperature_in_range=True, creatinine="pass", ph="pass",
                specific_gravity="pass", oxidants="pass", sealed=True,
            )  # fmt: skip
            # What the patient takes shows (buprenorphine, methadone); nothing else does.
            taken = active_ingredients(order.patient, order.due_on)
            results = [
                actions.ResultIn(
                    code, "positive" if interpret.ACCOUNTS_FOR.get(code, frozenset()) & taken else "negative"
                )
                for code in order.analytes
            ]
            # The last week: one fentanyl and one cocaine positive, for the review the demo shows.
            if weeks_ago == 1:
                for code in ("FTY", "COC"):
                    if not unexpected[code] and code in order.analytes:
                        results = [actions.ResultIn(code, "positive") if r.analyte == code else r for r in results]
                        unexpected[code] = True
                        break
            actions.do_enter_results(order, acting_user=collector, results=results)
    made += _lab_send_out(program, episodes[0], today)
    return made


def _lab_send_out(program: Program, episode: EpisodeOfCare, today: date) -> int:
    """A lab send-out four days ago, its results imported as the lab's ORU^R01 message (all expected)."""
    user = episode.primary_clinician
    assert user is not None
    day = today - timedelta(days=4)
    order = actions.do_order_test(episode, acting_user=user, kind="lab", reason="clinical", due_on=day)
    specimen = f"LAB-{day:%y%m%d}-01"
    actions.do_record_collection(
        order, acting_user=user, collected_at=_collected_at(program, day), specimen_id=specimen, observed=True,
        temperature_in_range=True, custody_form="CCF-0042117", sealed=True, released_to="Riverside Reference Lab",
        released_at=_collected_at(program, day) + timedelta(hours=2),
    )  # fmt: skip
    bup = "POS" if "buprenorphine" in active_ingredients(episode.patient, day) else "NEG"
    segments = [
        f"MSH|^~\\&|RIVERLAB|RIVERSIDE REFERENCE LAB|OPENIOP|{program.site.name.upper()}|{day:%Y%m%d}160000||ORU^R01"
        f"|DEMO-{day:%Y%m%d}-{episode.patient.mrn}|P|2.5.1",
        f"PID|1||{episode.patient.mrn}^^^OPENIOP^MR",
        f"OBR|1|ORD-{day:%y%m%d}-01|{specimen}|UDS^Urine drug screen^L",
        f"OBX|1|ST|BUP^Buprenorphine^L||{bup}|ng/mL|5|{'A' if bup == 'POS' else 'N'}|||F",
        "OBX|2|ST|FTY^Fentanyl^L||NEG|ng/mL|1|N|||F",
        "OBX|3|ST|OPI^Opiates^L||NEG|ng/mL|300|N|||F",
        "OBX|4|ST|COC^Cocaine^L||NEG|ng/mL|150|N|||F",
        "OBX|5|ST|ETG^Ethyl glucuronide^L||NEG|ng/mL|500|N|||F",
    ]
    do_import("\r".join(segments).encode(), fmt="hl7", organization=program.site.organization, acting_user=user)
    return 1
