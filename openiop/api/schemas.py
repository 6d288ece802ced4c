from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from django.core.exceptions import ValidationError
from ninja import Field, Schema
from ninja.schema import DjangoGetter
from pydantic import ConfigDict, model_validator

from openiop.accounts.models import User

# Bounds of every list's paging parameters (a larger offset than any list can have is a client bug, and an integer
# beyond 64 bits would reach the database as an error); documented in the OpenAPI document and the README.
MAX_OFFSET = 1_000_000
# The longest text any input field takes unless it sets a shorter limit: a narrative section of a note, a plan's
# text, a reason. Longer is a paste gone wrong (or an attack), refused with a 422 naming the field.
MAX_TEXT = 50_000
# Any other whole number a body takes: what a database integer column holds (the action checks the real range).
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


def _document_limits(schema: dict[str, Any]) -> None:
    """Show the default limit as ``maxLength`` on every string property that does not set its own."""
    for prop in schema.get("properties", {}).values():
        for variant in [prop, *prop.get("anyOf", [])]:
            if variant.get("type") == "string" and "format" not in variant and "enum" not in variant:
                variant.setdefault("maxLength", MAX_TEXT)


class ApiIn(Schema):
    """The base of every request body and query: strings at most ``MAX_TEXT`` long, a body must be an object."""

    model_config = ConfigDict(str_max_length=MAX_TEXT, json_schema_extra=_document_limits, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        # Models read attributes (from_attributes), so a JSON array would otherwise pass as an empty object; ninja
        # hands the value over wrapped in its attribute reader.
        value = data._obj if isinstance(data, DjangoGetter) else data
        if value is None or isinstance(value, list | tuple | str | bytes | int | float | bool):
            raise ValueError("Send a JSON object.")
        return data


class TrackOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    kind: str
    weekdays: list[int]
    start_time: time
    end_time: time
    hours_per_week: Decimal
    is_active: bool


class ProgramOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    site: str = Field(alias="site.name")
    focus: str
    population: str
    level_of_care: str = Field(description="A code of the level-of-care catalog (php, iop, op...)")
    time_zone: str
    weekly_dose_hours: Decimal
    max_length_weeks: int
    group_size_cap: int
    is_active: bool
    tracks: list[TrackOut]


class SignerOut(Schema):
    """A staff member who may sign a document (scope of practice): whom a draft is handed over to."""

    id: UUID = Field(alias="public_id")
    display_name: str
    credentials: str


class HandOverIn(ApiIn):
    to: UUID


class HandoverOut(Schema):
    """A document's open hand-over for signing (``worklist.handover.Handover``)."""

    to: UUID | None
    to_name: str
    on: datetime
    task: UUID

    @staticmethod
    def resolve_to(obj: Any) -> UUID | None:
        return obj.to.public_id if obj.to is not None else None

    @staticmethod
    def resolve_to_name(obj: Any) -> str:
        return obj.to.display_name if obj.to is not None else ""

    @staticmethod
    def resolve_task(obj: Any) -> UUID:
        return obj.task.public_id


def signer_for(user: User, public_id: UUID) -> User:
    """The staff member a document is handed to, in the user's organization; a problem naming ``to`` otherwise
    (the action then checks they may sign it)."""
    found = User.objects.filter(public_id=public_id, organization__isnull=False, is_active=True).first()
    if found is None or found.organization_id != user.organization_id:
        raise ValidationError({"to": "Unknown staff member."})
    return found


def api_field_errors(exc: ValidationError, **renamed: str) -> ValidationError:
    """An action's errors keyed by the API's field names (the form's ``handed_to`` is the API's ``to``)."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({renamed.get(field, field): errors for field, errors in exc.error_dict.items()})


class MeOut(Schema):
    id: UUID = Field(alias="public_id")
    username: str
    display_name: str
    role: str
    credentials: str
    programs: list[UUID]
    capabilities: list[str]


class PatientSummary(Schema):
    id: UUID = Field(alias="public_id")
    mrn: str
    legal_first_name: str
    legal_last_name: str
    preferred_name: str
    pronouns: str
    date_of_birth: date
    is_active: bool


class PatientIn(ApiIn):
    home_program: UUID
    legal_first_name: str = Field(min_length=1, max_length=100)
    legal_middle_name: str = Field("", max_length=100)
    legal_last_name: str = Field(min_length=1, max_length=100)
    preferred_name: str = Field("", max_length=100)
    pronouns: str = Field("", max_length=40)
    date_of_birth: date
    sex_assigned_at_birth: str = "unknown"
    gender_identity: str = Field("", max_length=60)
    email: str = Field("", max_length=254)
    phone_mobile: str = Field("", max_length=40)
    phone_home: str = Field("", max_length=40)
    address_line1: str = Field("", max_length=200)
    address_line2: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    state: str = Field("", max_length=40)
    postal_code: str = Field("", max_length=20)
    preferred_language: str = Field("English", max_length=60)
    interpreter_needed: bool = False
    emergency_contact_name: str = Field("", max_length=150)
    emergency_contact_relationship: str = Field("", max_length=60)
    emergency_contact_phone: str = Field("", max_length=40)
    confirm_not_duplicate: bool = Field(False, description="Create even when the same name and birth date exist.")


class PatientPatch(ApiIn):
    legal_first_name: str | None = Field(None, min_length=1, max_length=100)
    legal_middle_name: str | None = Field(None, max_length=100)
    legal_last_name: str | None = Field(None, min_length=1, max_length=100)
    preferred_name: str | None = Field(None, max_length=100)
    pronouns: str | None = Field(None, max_length=40)
    date_of_birth: date | None = None
    sex_assigned_at_birth: str | None = None
    gender_identity: str | None = Field(None, max_length=60)
    email: str | None = Field(None, max_length=254)
    phone_mobile: str | None = Field(None, max_length=40)
    phone_home: str | None = Field(None, max_length=40)
    address_line1: str | None = Field(None, max_length=200)
    address_line2: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=40)
    postal_code: str | None = Field(None, max_length=20)
    preferred_language: str | None = Field(None, max_length=60)
    interpreter_needed: bool | None = None
    emergency_contact_name: str | None = Field(None, max_length=150)
    emergency_contact_relationship: str | None = Field(None, max_length=60)
    emergency_contact_phone: str | None = Field(None, max_length=40)


class PatientOut(PatientSummary):
    legal_middle_name: str
    sex_assigned_at_birth: str
    gender_identity: str
    email: str
    phone_mobile: str
    phone_home: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    preferred_language: str
    interpreter_needed: bool
    emergency_contact_name: str
    emergency_contact_relationship: str
    emergency_contact_phone: str
    home_program: UUID = Field(alias="home_program.public_id")


class CoverageIn(ApiIn):
    priority: int = Field(1, ge=1, le=3)
    payer: UUID | None = Field(
        None,
        description="One of the organization's active payers (GET /billing/payers); its name and kind then replace "
        "payer_name and payer_kind.",
    )
    payer_kind: str = "commercial"
    payer_name: str = Field("", max_length=150, description="Required without a payer.")
    plan_name: str = Field("", max_length=150)
    member_id: str = Field(min_length=1, max_length=60)
    group_number: str = Field("", max_length=60)
    subscriber_name: str = Field("", max_length=150)
    subscriber_date_of_birth: date | None = None
    relationship_to_subscriber: str = "self"
    effective_from: date | None = None
    effective_to: date | None = None


class CoverageOut(CoverageIn):
    # Read from the model: ninja's resolvers (``resolve_payer``) only run on schemas that allow extra attributes.
    model_config = ConfigDict(extra="ignore")

    id: UUID = Field(alias="public_id")
    is_active: bool

    @staticmethod
    def resolve_payer(obj: Any) -> UUID | None:
        return obj.payer.public_id if obj.payer_id else None


class SupportContactOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    relationship: str
    phone: str
    email: str
    involved_in_treatment: bool
    is_active: bool


class EpisodeIn(ApiIn):
    program: UUID
    status: str = Field("active", description="active (admit) or waitlist")
    track: UUID | None = None
    admitted_on: date | None = None
    waitlisted_on: date | None = None
    expected_discharge_on: date | None = None
    primary_clinician: UUID | None = None


class LevelPeriodOut(Schema):
    """One period of an episode at one level of care (``EpisodeOfCare.level_history``); the reason stays on the
    chart."""

    starts_on: date
    level: str
    program: UUID
    dose_hours: Decimal | None = Field(None, description="The weekly minimum of a past period; null for the current")


class ConsequenceOut(Schema):
    """What an episode transition did in another app (``patients.events.Consequence``): a stable ``key``, the
    ``count`` and the staff ``label`` after it ("3 future sessions cancelled", "1 future session cancelled")."""

    app: str
    key: str
    count: int
    label: str

    @staticmethod
    def resolve_label(obj: Any) -> str:
        return str(obj.wording if hasattr(obj, "wording") else obj["label"])


class EpisodeOut(Schema):
    id: UUID = Field(alias="public_id")
    patient: UUID = Field(alias="patient.public_id")
    program: UUID = Field(alias="program.public_id")
    program_name: str = Field(alias="program.name")
    track: UUID | None = None
    status: str
    waitlisted_on: date | None
    admitted_on: date | None
    expected_discharge_on: date | None
    discharged_on: date | None
    discharge_reason: str
    primary_clinician: UUID | None = None
    level_of_care: str
    level_history: list[LevelPeriodOut] = Field(
        [], description="The level's periods once it has changed (a step down or up), oldest first"
    )

    @staticmethod
    def resolve_level_history(obj: object) -> list[dict[str, object]]:
        history = getattr(obj, "level_history", None) or []
        return [
            {
                "starts_on": p["from"],
                "level": p["level"],
                "program": p["program"],
                # The current period's minimum is the program's own (weekly_dose_hours), read live.
                "dose_hours": p["dose_hours"] if i < len(history) - 1 else None,
            }
            for i, p in enumerate(history)
        ]

    @staticmethod
    def resolve_track(obj: object) -> UUID | None:
        track = getattr(obj, "track", None)
        return track.public_id if track is not None else None

    @staticmethod
    def resolve_primary_clinician(obj: object) -> UUID | None:
        user = getattr(obj, "primary_clinician", None)
        return user.public_id if user is not None else None


class EpisodeStatusOut(EpisodeOut):
    """The episode after a status change, with what the change did elsewhere (nothing listed for a count of 0)."""

    consequences: list[ConsequenceOut] = []


class EpisodeStatusIn(ApiIn):
    status: str
    on_date: date
    discharge_reason: str = ""


class DuplicateOut(Schema):
    id: UUID
    mrn: str
