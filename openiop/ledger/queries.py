"""Access to a patient's ledger: RECORD_PAYMENTS or VIEW_BILLING (403: clinicians never see money), then the
patient in the user's programs (404)."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404

from openiop.accounts.models import User
from openiop.core.permissions import require
from openiop.core.roles import Cap
from openiop.patients.models import Patient
from openiop.patients.queries import patients_for_user

READ_CAPS = (Cap.VIEW_BILLING, Cap.RECORD_PAYMENTS)


def ledger_patient(user: User, public_id: UUID | str, *caps: Cap) -> Patient:
    """The patient whose ledger the user may read (and, with ``caps``, write): in the user's programs only. An
    emergency access grant opens a chart for care, not its money, so it does not open the ledger (404)."""
    require(user, *caps, any_of=READ_CAPS)
    try:
        return patients_for_user(user).select_related("organization", "home_program__site").get(public_id=public_id)
    except Patient.DoesNotExist:
        raise Http404 from None
