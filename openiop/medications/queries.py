"""Reading the medication list (access is the chart's: callers check the patient first)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from openiop.medications.models import Medication
from openiop.patients.models import Patient


def active_on(patient: Patient, day: date) -> QuerySet[Medication]:
    """The patient's medications taken on ``day`` (started by then or start unknown, not stopped before it)."""
    return Medication.objects.filter(
        Q(start_date__isnull=True) | Q(start_date__lte=day),
        Q(stop_date__isnull=True) | Q(stop_date__gte=day),
        patient=patient,
    )


def active_ingredients(patient: Patient, day: date) -> set[str]:
    """The lowercase ingredient names of everything the patient takes on ``day``: what a drug test may find
    because it was prescribed (the labs app's interpretation reads this). A free entry without ingredients adds
    its name, lowercased, so "Buprenorphine" typed by hand still counts."""
    found: set[str] = set()
    for ingredients, name in active_on(patient, day).values_list("ingredients", "name"):
        found.update(i.lower() for i in ingredients or [name])
    return found


def on_moud(patient: Patient, day: date) -> bool:
    return active_on(patient, day).filter(is_moud=True).exists()
