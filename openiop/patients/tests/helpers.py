"""Request helpers shared by the patient tests."""

from __future__ import annotations

from typing import Any

HTMX = {"HTTP_HX_REQUEST": "true"}


def patient_form_data(program: Any, **overrides: Any) -> dict[str, Any]:
    """A complete, valid registration form as a browser would post it."""
    data = {
        "home_program": str(program.public_id),
        "legal_first_name": "Avery",
        "legal_middle_name": "",
        "legal_last_name": "Quinn",
        "preferred_name": "Ave",
        "pronouns": "they/them",
        "date_of_birth": "1985-06-30",
        "sex_assigned_at_birth": "unknown",
        "gender_identity": "Nonbinary",
        "email": "avery@example.org",
        "phone_mobile": "555-0111",
        "phone_home": "",
        "address_line1": "1 Main St",
        "address_line2": "",
        "city": "Riverside",
        "state": "NY",
        "postal_code": "10001",
        "preferred_language": "English",
        "emergency_contact_name": "Robin Quinn",
        "emergency_contact_relationship": "Parent",
        "emergency_contact_phone": "555-0112",
    }
    data.update(overrides)
    return data


def edit_form_data(patient: Any, **overrides: Any) -> dict[str, Any]:
    """The edit form as posted back unchanged, plus overrides."""
    from openiop.patients.actions import PATIENT_FIELDS

    data: dict[str, Any] = {}
    for name in PATIENT_FIELDS:
        value = getattr(patient, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else str(value)
    data.update(overrides)
    return data
