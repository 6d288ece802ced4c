"""The care parts of the patient portal (questionnaires, plan, skills practice, aftercare), for the home page.

``home_cards`` gives the home page what is waiting for the patient; the pages themselves are in ``views_care``.
"""

from __future__ import annotations

from typing import Any

from openiop.portal.models import PortalAccount


def home_cards(account: PortalAccount) -> dict[str, Any]:
    """Context for ``portal/partials/care_cards.html`` on the patient's home page."""
    return {}
