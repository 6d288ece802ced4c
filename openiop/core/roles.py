"""Staff roles and what each may do.

A role grants capabilities; program membership decides which patients. Views check the capability first
(403, the same answer whether or not the record exists) and then scope the lookup to the user's programs
(404 for anything outside them), so an outsider never learns that a record exists.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    DIRECTOR = "director", "Program director"
    CLINICIAN = "clinician", "Clinician"
    SUPERVISED_CLINICIAN = "supervised_clinician", "Supervised clinician / intern"
    INTAKE = "intake", "Intake coordinator"
    FRONT_DESK = "front_desk", "Front desk"
    BILLING = "billing", "Billing"
    AUDITOR = "auditor", "Auditor (read-only)"
    # Reviews emergency (break-the-glass) access and reads the audit trail, organization-wide; reads no chart.
    PRIVACY_OFFICER = "privacy_officer", "Privacy officer"
    SYSADMIN = "sysadmin", "System administrator"


class Cap(StrEnum):
    VIEW_PATIENTS = "view_patients"  # find patients, read demographics, contacts and episodes
    VIEW_CLINICAL = "view_clinical"  # clinical parts of the chart
    EDIT_DEMOGRAPHICS = "edit_demographics"
    EDIT_COVERAGE = "edit_coverage"
    EDIT_CLINICAL = "edit_clinical"  # episodes of care and, later, plans and notes
    VIEW_CENSUS = "view_census"
    MANAGE_PROGRAMS = "manage_programs"  # programs and tracks of one's own programs
    MANAGE_ORGANIZATION = "manage_organization"  # organization, sites, all programs, staff
    VIEW_AUDIT = "view_audit"
    BOOK_SESSIONS = "book_sessions"  # book, cancel and waitlist patients into sessions (front desk too)
    RECORD_ATTENDANCE = "record_attendance"  # check people in on a session roster (front desk too)
    VIEW_BILLING = "view_billing"  # billable days, payer rules, later claims and authorizations
    MANAGE_BILLING = "manage_billing"  # payer rules and, later, claims
    # Take a patient's payment (copay at the desk, a check in the mail) and see the balance it goes against, on the
    # chart's Ledger tab: billing, and the front desk who collects at check-in. Not the claims or the 835s.
    RECORD_PAYMENTS = "record_payments"
    # Break-the-glass: open, for a limited time and read-only, the chart of a patient outside one's programs.
    REQUEST_EMERGENCY_ACCESS = "request_emergency_access"
    REVIEW_EMERGENCY_ACCESS = "review_emergency_access"  # sign off emergency access (directors: their programs)


_CLINICAL_TEAM = {
    Cap.VIEW_PATIENTS,
    Cap.VIEW_CLINICAL,
    Cap.EDIT_DEMOGRAPHICS,
    Cap.EDIT_CLINICAL,
    Cap.VIEW_CENSUS,
    Cap.BOOK_SESSIONS,
    Cap.RECORD_ATTENDANCE,
}

ROLE_CAPABILITIES: dict[str, frozenset[Cap]] = {
    Role.DIRECTOR: frozenset(
        _CLINICAL_TEAM
        | {
            Cap.EDIT_COVERAGE,
            Cap.MANAGE_PROGRAMS,
            Cap.VIEW_BILLING,
            Cap.REQUEST_EMERGENCY_ACCESS,
            Cap.REVIEW_EMERGENCY_ACCESS,
        }
    ),
    Role.CLINICIAN: frozenset(_CLINICAL_TEAM | {Cap.REQUEST_EMERGENCY_ACCESS}),
    Role.SUPERVISED_CLINICIAN: frozenset(_CLINICAL_TEAM | {Cap.REQUEST_EMERGENCY_ACCESS}),
    Role.INTAKE: frozenset(_CLINICAL_TEAM | {Cap.EDIT_COVERAGE, Cap.REQUEST_EMERGENCY_ACCESS}),
    Role.FRONT_DESK: frozenset(
        {
            Cap.VIEW_PATIENTS,
            Cap.EDIT_DEMOGRAPHICS,
            Cap.EDIT_COVERAGE,
            Cap.VIEW_CENSUS,
            Cap.BOOK_SESSIONS,
            Cap.RECORD_ATTENDANCE,
            Cap.RECORD_PAYMENTS,
        }
    ),
    Role.BILLING: frozenset(
        {
            Cap.VIEW_PATIENTS,
            Cap.EDIT_COVERAGE,
            Cap.VIEW_CENSUS,
            Cap.VIEW_BILLING,
            Cap.MANAGE_BILLING,
            Cap.RECORD_PAYMENTS,
        }
    ),
    Role.AUDITOR: frozenset({Cap.VIEW_PATIENTS, Cap.VIEW_CLINICAL, Cap.VIEW_CENSUS, Cap.VIEW_AUDIT, Cap.VIEW_BILLING}),
    Role.SYSADMIN: frozenset({Cap.MANAGE_ORGANIZATION, Cap.MANAGE_PROGRAMS, Cap.VIEW_AUDIT}),
    Role.PRIVACY_OFFICER: frozenset({Cap.VIEW_AUDIT, Cap.REVIEW_EMERGENCY_ACCESS}),
}

# Credentials a clinician may hold; free text is allowed too, these feed the picker.
COMMON_CREDENTIALS = ["MD", "DO", "PhD", "PsyD", "NP", "PA", "RN", "LCSW", "LMSW", "LPC", "LMFT", "LADC", "CADC"]


def capabilities_for(role: str) -> frozenset[Cap]:
    return ROLE_CAPABILITIES.get(role, frozenset())
