"""``{% eligibility_status coverage %}`` on the chart's Insurance tab: the last eligibility answer beside the coverage
and the "Check eligibility" button. The patients app's template loads it (claims sits above patients, so the tab
cannot build this in its own context).

Who sees what: staff who may read eligibility (EDIT_COVERAGE, VIEW_BILLING or MANAGE_BILLING: billing, front desk,
intake, directors, auditors) see the line with the amounts and a link to the check; everyone else who sees the tab
(clinicians) sees only whether the patient was eligible on that day, with no amounts and no link. Each shown answer
is audited as a read of the check. Nothing is shown under emergency access (it is for clinical care, not billing).
"""

from __future__ import annotations

from typing import Any

from django import template

from openiop.claims import eligibility

register = template.Library()


@register.inclusion_tag("claims/partials/eligibility_status.html", takes_context=True)
def eligibility_status(context: Any, coverage: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    caps = context.get("caps") or {}
    if user is None or not user.is_authenticated or context.get("emergency_grant") is not None:
        return {"show": False}
    # One query per tab render, not per coverage: the tab's coverages are looked up together the first time.
    state = context.render_context
    if "eligibility_latest" not in state:
        coverages = [c for group in context.get("coverage_groups", []) for c in group["items"]] or [coverage]
        state["eligibility_latest"] = eligibility.latest_checks(coverages)
    cache = state["eligibility_latest"]
    check = cache.get(coverage.pk)
    full = any(caps.get(c.value) for c in eligibility.READ_CAPS)
    can_request = (
        any(caps.get(c.value) for c in eligibility.REQUEST_CAPS)
        and coverage.is_active
        and coverage.payer_id is not None
        and bool(coverage.payer.payer_id)
    )
    line = ""
    if check is not None:
        line = eligibility.headline(check) if full else eligibility.yes_no(check)
        if line:
            eligibility.record_read(user, check)
    return {"show": True, "check": check, "line": line, "full": full, "can_request": can_request, "coverage": coverage}
