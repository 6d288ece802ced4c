"""What the discharge summary and the aftercare plan carry from the medication list (the discharge app, above this
one, calls these): the medications taken on the discharge day, whether the patient is on MOUD and with whom, and
the last reconciliation.

Only medications this episode's record may hold: those recorded outside any episode, in this program, or in a
program that is not a substance-use program. A mental-health program's summary never copies a substance-use
program's list (42 CFR Part 2): that program's own summary carries it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q

from openiop.medications.models import Medication, MoudCoordination, Reconciliation
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program

SUD = (Program.Focus.SUBSTANCE_USE, Program.Focus.CO_OCCURRING)


def _taken(episode: EpisodeOfCare, day: date) -> list[Medication]:
    return list(
        Medication.objects.filter(
            Q(start_date__isnull=True) | Q(start_date__lte=day),
            Q(stop_date__isnull=True) | Q(stop_date__gte=day),
            Q(episode__isnull=True) | Q(episode__program=episode.program_id) | ~Q(episode__program__focus__in=SUD),
            patient=episode.patient_id,
        ).order_by("-is_moud", "name", "pk")
    )


def line(medication: Medication) -> str:
    """One medication in words: "Sertraline 50 mg: 1 tablet once daily (Dr. Ortiz)"."""
    dosing = " ".join(filter(None, (medication.dose, medication.frequency)))
    text = " ".join(filter(None, (medication.name, medication.strength)))
    if dosing:
        text += f": {dosing}"
    if medication.prescriber:
        text += f" ({medication.prescriber})"
    return text


def _coordination(episode: EpisodeOfCare) -> MoudCoordination | None:
    return MoudCoordination.objects.filter(episode=episode).first()


def moud_line(episode: EpisodeOfCare, medications: list[Medication]) -> str:
    """The aftercare line that says who continues the MOUD, when the patient is on it."""
    moud = [m.name for m in medications if m.is_moud]
    if not moud:
        return ""
    text = f"MOUD: continue {', '.join(moud)}"
    coordination = _coordination(episode)
    if coordination is not None:
        with_whom = [
            " ".join(filter(None, (name, phone)))
            for name, phone in (
                (coordination.otp_name, coordination.otp_phone),
                (coordination.prescriber_name or coordination.prescriber_practice, coordination.prescriber_phone),
            )
            if name
        ]
        if with_whom:
            text += f" with {'; '.join(with_whom)}"
    return text


def discharge_snapshot(episode: EpisodeOfCare, day: date) -> dict[str, Any]:
    """The summary's medications section, JSON-ready (stored with the summary, so a later change never rewrites
    a signed one)."""
    medications = _taken(episode, day)
    last = Reconciliation.objects.filter(episode=episode).select_related("signed_by").order_by("-signed_at").first()
    return {
        "medications": [line(m) for m in medications],
        "on_moud": any(m.is_moud for m in medications),
        "moud": moud_line(episode, medications),
        "last_reconciliation": (
            {
                "occasion": last.get_occasion_display(),
                "on": last.reconciled_on.isoformat(),
                "signed_by": last.signed_by.display_name,
            }
            if last is not None
            else None
        ),
    }


def aftercare_lines(episode: EpisodeOfCare, day: date) -> list[str]:
    """The aftercare plan's first draft of its medications: the MOUD line first, then each medication."""
    medications = _taken(episode, day)
    first = moud_line(episode, medications)
    return [*([first] if first else []), *(line(m) for m in medications)]
