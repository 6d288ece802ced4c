"""The chart header's intake rating (registered in intake/apps.py): the level of care the clinician chose with each
framework (ASAM 3rd or 4th edition, LOCUS) in the patient's latest signed assessment, shown beside the episode's
level of care (patients' "IOP · week 3" badge). Exactly as entered, never computed
(docs/clinical-rules.md#level-of-care). One query."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from openiop.accounts.http import request_user
from openiop.intake.frameworks import framework
from openiop.intake.models import IntakeAssessment, LevelOfCareRating
from openiop.intake.queries import assessments_for_user
from openiop.patients.models import Patient

SHORT_NAMES = {"asam3": "ASAM", "asam4": "ASAM 4th ed.", "locus": "LOCUS"}


def level_rating_flag(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    user = request_user(request)
    latest = (
        assessments_for_user(user)
        .filter(patient=patient, status=IntakeAssessment.Status.SIGNED)
        .order_by("-assessed_on", "-created_at")
        .values("pk")[:1]
    )
    ratings = list(
        LevelOfCareRating.objects.filter(assessment__in=latest)
        .exclude(chosen_level="")
        .select_related("assessment")
        .only("framework", "chosen_level", "assessment__assessed_on")
        .order_by("framework")
    )
    if not ratings:
        return None
    return {
        "ratings": [
            {
                "framework": SHORT_NAMES.get(r.framework, r.framework),
                "level": r.chosen_level,
                "title": framework(r.framework).level_label(r.chosen_level),
            }
            for r in ratings
        ],
        "assessed_on": ratings[0].assessment.assessed_on,
        "intake_url": f"{patient.get_absolute_url()}?tab=intake",
    }
