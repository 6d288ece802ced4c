"""The chart header's consent flag (registered in consents/apps.py): for a patient in a substance-use program,
whether an active 42 CFR Part 2 consent is on file, and how many releases are active. Two queries (consents, and
whether any open episode in the user's programs is Part 2), so a glance tells staff what they may share."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.http import request_user
from openiop.consents.models import ConsentKind, ConsentStatus
from openiop.consents.queries import patient_consents
from openiop.core.permissions import program_ids_for
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs.models import Program

STATUS_FIELDS = ("kind", "revoked_at", "expiry_kind", "expires_on", "expiry_event_occurred_on")
PART2_FOCUS = [Program.Focus.SUBSTANCE_USE, Program.Focus.CO_OCCURRING]  # Program.is_substance_use, as a filter


def consents_flag(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    user = request_user(request)
    now = timezone.now()
    consents = [
        c
        for c in patient_consents(user, patient)
        .filter(kind__in=[ConsentKind.PART2, ConsentKind.RELEASE])
        # Only what ``status_on`` reads: the full rows with their program, site, contact and signature cost more
        # to compile and load than the query takes in the database.
        .select_related(None)
        .select_related("program")
        .only(*STATUS_FIELDS, "program__time_zone")
        if c.status_on(now) == ConsentStatus.ACTIVE
    ]
    part2_applies = (
        EpisodeOfCare.objects.filter(
            patient=patient, program_id__in=program_ids_for(user), program__focus__in=PART2_FOCUS
        )
        .exclude(status=EpisodeOfCare.Status.DISCHARGED)
        .exists()
    )
    releases = sum(1 for c in consents if c.kind == ConsentKind.RELEASE)
    if not part2_applies and not releases:
        return None
    return {
        "part2_applies": part2_applies,
        "part2_on_file": any(c.kind == ConsentKind.PART2 for c in consents),
        "releases": releases,
        "consents_url": f"{patient.get_absolute_url()}?tab=consents",
    }
