"""The procedure code of one attended service, for claims that list each service rather than a per diem.

No database: ``procedure_for(service_kind, minutes, override)`` answers the code and, when there is none, why (in words
billing staff can act on). A session type's own code (``override``) always wins: it is how a clinic bills a
payer's HCPCS codes (Medicare's G0177 education, an E/M code for a medication visit). Otherwise the code follows
from the service kind and, for psychotherapy, the minutes attended (docs/clinical-rules.md#claims):

- group psychotherapy 90853 (not timed);
- individual psychotherapy by the CPT time bands: 90832 16-37 min, 90834 38-52 min, 90837 53 min or more; under
  16 min is not reported;
- family psychotherapy with the patient present 90847, a 50-minute service reported from 26 min (past the
  midpoint, CPT's time rule);
- the psychiatric diagnostic evaluation of an intake 90791 (not timed);
- patient education and medication management have no code of their own here: education is billed by a payer's
  HCPCS (e.g. G0177, H2027) and a medication visit by its E/M level, both set on the session type.
"""

from __future__ import annotations

from openiop.scheduling.models import SessionType

Kind = SessionType.ServiceKind
GROUP, INDIVIDUAL, FAMILY = Kind.GROUP_PSYCHOTHERAPY, Kind.INDIVIDUAL_PSYCHOTHERAPY, Kind.FAMILY_PSYCHOTHERAPY
EDUCATION, ASSESSMENT, MEDICATION = Kind.PSYCHOEDUCATION, Kind.ASSESSMENT, Kind.MEDICATION_MANAGEMENT

# CPT psychotherapy time bands (minutes from, through, code): the code whose band holds the minutes attended.
INDIVIDUAL_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (16, 37, "90832"),
    (38, 52, "90834"),
    (53, None, "90837"),
)
FAMILY_CODE, FAMILY_MIN_MINUTES = "90847", 26
UNTIMED: dict[str, str] = {GROUP: "90853", ASSESSMENT: "90791"}
TELEHEALTH_MODIFIER = "95"  # synchronous audio-video telehealth (CPT Appendix P; Medicare since 2024 for hospitals)


def individual_code(minutes: int) -> str:
    for low, high, code in INDIVIDUAL_BANDS:
        if minutes >= low and (high is None or minutes <= high):
            return code
    return ""


def procedure_for(service_kind: str, minutes: int, override: str = "") -> tuple[str, str]:
    """(code, "") or ("", why there is none) for one attended service."""
    if override.strip():
        return override.strip().upper(), ""
    if service_kind in UNTIMED:
        return UNTIMED[service_kind], ""
    if service_kind == INDIVIDUAL:
        code = individual_code(minutes)
        if code:
            return code, ""
        return "", f"{minutes} min of individual psychotherapy is under the 16 minutes of the shortest code (90832)"
    if service_kind == FAMILY:
        if minutes >= FAMILY_MIN_MINUTES:
            return FAMILY_CODE, ""
        return "", f"{minutes} min of family psychotherapy is under the {FAMILY_MIN_MINUTES} minutes 90847 needs"
    if service_kind == EDUCATION:
        return "", "patient education has no CPT code: set the payer's HCPCS (e.g. G0177) on the session type"
    if service_kind == MEDICATION:
        return "", "a medication visit is billed at its E/M level: set the code (e.g. 99213) on the session type"
    return "", f"no code for the service kind {service_kind!r}: set one on the session type"
