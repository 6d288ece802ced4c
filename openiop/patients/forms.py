"""Forms for the patient screens. They validate input only; the actions in actions.py do the writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.forms import DateInput, StyledFormMixin
from openiop.patients.actions import CONTACT_FIELDS, COVERAGE_FIELDS, EARLIEST_BIRTH_DATE, PATIENT_FIELDS
from openiop.patients.models import (
    CareTeamMember,
    Coverage,
    EmergencyAccessGrant,
    EpisodeOfCare,
    Patient,
    Payer,
    SupportContact,
)
from openiop.patients.queries import (
    CARE_TEAM_ROLES,
    PRIMARY_CLINICIAN_ROLES,
    STATUS_FILTER_NONE,
    payer_choices,
    programs_for_user,
    staff_of_program,
    tracks_for_program,
)
from openiop.programs.models import Organization, Program, Track


class _ScopedFields:
    """Calls setup_fields() as soon as Django has built the fields, so every form narrows its choices in one place."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_fields()

    def setup_fields(self) -> None:
        """Narrow querysets and choices to what the user may pick."""


class _AccessibleErrors:
    """Links every input to its help text and errors (aria-describedby), also for errors added by actions."""

    fields: dict[str, forms.Field]
    _errors: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._describe()

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        self._describe()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        if hasattr(self, "fields"):
            self._describe()

    def _describe(self) -> None:
        errors = self._errors or {}
        for name, field in self.fields.items():
            auto_id = self[name].auto_id  # type: ignore[index]
            attrs = field.widget.attrs
            ids = []
            if field.help_text:
                ids.append(f"{auto_id}_help")
            if name in errors:
                ids.append(f"{auto_id}_error")
                attrs["aria-invalid"] = "true"
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
            css = " ".join(dict.fromkeys(attrs.get("class", "").split()))
            if css:
                attrs["class"] = css
            else:
                attrs.pop("class", None)
            if ids:
                attrs["aria-describedby"] = " ".join(ids)
            else:
                attrs.pop("aria-describedby", None)


class PatientsForm(_AccessibleErrors, StyledFormMixin, _ScopedFields, forms.Form):
    pass


class PatientsModelForm(_AccessibleErrors, StyledFormMixin, _ScopedFields, forms.ModelForm):
    """Validates model fields without touching a saved instance: views never call save()."""


def _program_field(**kwargs: Any) -> forms.ModelChoiceField:
    # Public ids in submitted values too, so no integer id ever reaches a URL or a page.
    return forms.ModelChoiceField(queryset=Program.objects.none(), to_field_name="public_id", **kwargs)


# --- Patient list --------------------------------------------------------------------------------------------


class PatientSearchForm(PatientsForm):
    STATUS_CHOICES = [
        ("", "Any status"),
        (EpisodeOfCare.Status.ACTIVE, "Active"),
        (EpisodeOfCare.Status.ON_HOLD, "On hold"),
        (EpisodeOfCare.Status.WAITLIST, "Waitlist"),
        (EpisodeOfCare.Status.DISCHARGED, "Discharged"),
        (STATUS_FILTER_NONE, "No episode yet"),
    ]

    q = forms.CharField(
        label="Name, MRN or date of birth",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
    )
    dob = forms.DateField(label="Date of birth", required=False, widget=DateInput())
    program = _program_field(label="Program", required=False, empty_label="All my programs")
    status = forms.ChoiceField(label="Episode status", required=False, choices=STATUS_CHOICES)
    inactive = forms.BooleanField(label="Include inactive records", required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def setup_fields(self) -> None:
        self.fields["program"].queryset = programs_for_user(self.user, active_only=False)  # type: ignore[attr-defined]


# --- Demographics --------------------------------------------------------------------------------------------


class PatientForm(PatientsModelForm):
    FIELDSETS = [
        (
            "Name and identity",
            [
                "legal_first_name", "legal_middle_name", "legal_last_name", "preferred_name", "pronouns",
                "date_of_birth", "sex_assigned_at_birth", "gender_identity",
            ],
        ),
        (
            "Contact details",
            ["phone_mobile", "phone_home", "email", "address_line1", "address_line2", "city", "state", "postal_code"],
        ),
        ("Language", ["preferred_language", "interpreter_needed"]),
        ("Emergency contact", ["emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone"]),
    ]  # fmt: skip

    class Meta:
        model = Patient
        fields = PATIENT_FIELDS
        labels = {
            "legal_first_name": "Legal first name",
            "legal_middle_name": "Legal middle name",
            "legal_last_name": "Legal last name",
            "phone_mobile": "Mobile phone",
            "phone_home": "Home phone",
            "address_line1": "Address",
            "address_line2": "Address (line 2)",
            "interpreter_needed": "Needs an interpreter",
            "emergency_contact_name": "Name",
            "emergency_contact_relationship": "Relationship",
            "emergency_contact_phone": "Phone",
        }
        help_texts = {
            "preferred_name": "The name staff use when speaking with the patient, if not the legal first name.",
            "pronouns": "For example she/her, he/him, they/them.",
        }
        widgets = {
            "date_of_birth": DateInput(),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone_mobile": forms.TextInput(attrs={"type": "tel"}),
            "phone_home": forms.TextInput(attrs={"type": "tel"}),
            "emergency_contact_phone": forms.TextInput(attrs={"type": "tel"}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_date_of_birth(self) -> Any:
        dob = self.cleaned_data["date_of_birth"]
        if dob and dob > timezone.localdate():
            raise forms.ValidationError("Date of birth cannot be in the future.")
        if dob and dob < EARLIEST_BIRTH_DATE:
            raise forms.ValidationError("Check the year of birth.")
        return dob

    def action_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in PATIENT_FIELDS}

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]


class PatientCreateForm(PatientForm):
    home_program = _program_field(
        label="Home program",
        help_text="Staff of this program can find the patient before any episode of care is opened.",
    )
    confirm_different_person = forms.BooleanField(
        label="This is a different person: create a new record anyway", required=False
    )

    def setup_fields(self) -> None:
        programs = programs_for_user(self.user)
        field = self.fields["home_program"]
        field.queryset = programs  # type: ignore[attr-defined]
        choices = list(programs[:2])
        if len(choices) == 1 and not self.is_bound:
            field.initial = choices[0].public_id

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [("Registration", [self["home_program"]]), *super().fieldsets()]


class DeactivatePatientForm(PatientsForm):
    reason = forms.CharField(
        label="Why is this record being deactivated?",
        max_length=200,
        help_text="For example: duplicate of another record, registered in error, moved away.",
    )


# --- Coverage and support contacts ---------------------------------------------------------------------------


class _PayerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.payer_id})"


class CoverageForm(PatientsModelForm):
    """A coverage, with the payer picked from the organization's active payers (the one already on the coverage
    stays a choice even when inactive). A picked payer names the coverage; without one, the typed name is kept."""

    payer = _PayerChoiceField(
        label="Payer",
        queryset=Payer.objects.none(),
        required=False,
        to_field_name="public_id",
        empty_label="Not in the list: type its name below",
        help_text="Claims go to this payer. Its name and type replace what is typed below.",
    )

    def __init__(self, *args: Any, organization: Organization, current_payer: Payer | None = None, **kw: Any) -> None:
        self.organization = organization
        self.current_payer = current_payer
        super().__init__(*args, **kw)

    def setup_fields(self) -> None:
        self.fields["payer"].queryset = payer_choices(self.organization, self.current_payer)  # type: ignore[attr-defined]
        self.fields["payer_name"].required = False
        self.fields["payer_name"].help_text = "Only when the payer is not in the list (e.g. typed on Book Now)."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("payer") and not (data.get("payer_name") or "").strip() and "payer_name" not in self.errors:
            self.add_error("payer_name", "Pick a payer, or type the payer's name.")
        return data

    class Meta:
        model = Coverage
        fields = COVERAGE_FIELDS
        labels = {
            "payer_kind": "Payer type",
            "member_id": "Member ID",
            "subscriber_date_of_birth": "Subscriber date of birth",
            "relationship_to_subscriber": "Patient's relationship to subscriber",
            "effective_from": "Effective from",
            "effective_to": "Effective to",
        }
        help_texts = {"subscriber_name": "Leave blank when the patient is the subscriber."}
        widgets = {
            "subscriber_date_of_birth": DateInput(),
            "effective_from": DateInput(),
            "effective_to": DateInput(),
        }

    def action_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in COVERAGE_FIELDS}


class SupportContactForm(PatientsModelForm):
    class Meta:
        model = SupportContact
        fields = CONTACT_FIELDS
        labels = {"involved_in_treatment": "Involved in treatment (family sessions, updates)"}
        help_texts = {
            "involved_in_treatment": "Sharing information still needs the patient's written consent.",
        }
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel"}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def action_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in CONTACT_FIELDS}


# --- Episodes of care ----------------------------------------------------------------------------------------


class _StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name


class _TrackChoiceField(forms.ModelChoiceField):
    show_program = False

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.program.name}: {obj}" if self.show_program else str(obj)


class _EpisodeChoices:
    """Track and primary clinician choices: one program's, or (before a program is picked, without JavaScript)
    those of all the user's programs, checked against the chosen program on submit."""

    fields: dict[str, forms.Field]

    def limit_to_program(self, program: Program | None, all_programs: Any = None) -> None:
        track = self.fields["track"]
        clinician = self.fields["primary_clinician"]
        if program is not None:
            track.queryset = tracks_for_program(program)  # type: ignore[attr-defined]
            clinician.queryset = staff_of_program(program)  # type: ignore[attr-defined]
            return
        track.show_program = True  # type: ignore[attr-defined]
        track.queryset = (  # type: ignore[attr-defined]
            Track.objects.filter(program__in=all_programs if all_programs is not None else [], is_active=True)
            .select_related("program")
            .order_by("program__name", "start_time", "name")
        )
        clinician.queryset = (  # type: ignore[attr-defined]
            User.objects.filter(
                is_active=True,
                role__in=PRIMARY_CLINICIAN_ROLES,
                memberships__program__in=all_programs if all_programs is not None else [],
            )
            .distinct()
            .order_by("last_name", "first_name", "username")
        )


def _track_field() -> forms.ModelChoiceField:
    return _TrackChoiceField(
        label="Track",
        queryset=Track.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label="Not assigned yet",
    )


def _clinician_field() -> _StaffChoiceField:
    return _StaffChoiceField(
        label="Primary clinician",
        queryset=User.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label="Not assigned yet",
    )


class EpisodeOpenForm(_EpisodeChoices, PatientsForm):
    ADMIT = EpisodeOfCare.Status.ACTIVE
    WAITLIST = EpisodeOfCare.Status.WAITLIST

    program = _program_field(label="Program", empty_label="Pick a program")
    status = forms.ChoiceField(
        label="Start as",
        choices=[(ADMIT, "Admit now (active)"), (WAITLIST, "Add to the waitlist")],
        initial=ADMIT,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    admitted_on = forms.DateField(label="Admission date", required=False, widget=DateInput())
    waitlisted_on = forms.DateField(label="Waitlisted on", required=False, widget=DateInput())
    expected_discharge_on = forms.DateField(
        label="Expected discharge",
        required=False,
        widget=DateInput(),
        help_text="Leave blank to use the program's usual length of stay.",
    )
    track = _track_field()
    primary_clinician = _clinician_field()

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        today = timezone.localdate()
        kwargs["initial"] = {"admitted_on": today, "waitlisted_on": today, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)

    def setup_fields(self) -> None:
        programs = programs_for_user(self.user)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.limit_to_program(self.selected_program(programs), programs)

    def selected_program(self, programs: Any) -> Program | None:
        value = self.data.get(self.add_prefix("program")) if self.is_bound else self.initial.get("program")
        if isinstance(value, Program):
            return value if programs.filter(pk=value.pk).exists() else None
        if not value:
            only = list(programs[:2])
            return only[0] if len(only) == 1 else None
        try:
            return programs.filter(public_id=value).first()
        except (ValueError, ValidationError):  # not a UUID: the program field reports it
            return None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == self.ADMIT and not data.get("admitted_on") and "admitted_on" not in self.errors:
            self.add_error("admitted_on", "Give the admission date.")
        if data.get("status") == self.WAITLIST:
            # A waitlisted episode has no admission yet; the date is set when it is admitted.
            data["admitted_on"] = None
        return data


class EpisodeEditForm(_EpisodeChoices, PatientsForm):
    track = _track_field()
    primary_clinician = _clinician_field()
    waitlisted_on = forms.DateField(label="Waitlisted on", required=False, widget=DateInput())
    admitted_on = forms.DateField(label="Admission date", required=False, widget=DateInput())
    expected_discharge_on = forms.DateField(label="Expected discharge", required=False, widget=DateInput())

    def __init__(self, *args: Any, episode: EpisodeOfCare, **kwargs: Any) -> None:
        self.episode = episode
        kwargs.setdefault(
            "initial",
            {
                "track": episode.track.public_id if episode.track else None,
                "primary_clinician": episode.primary_clinician.public_id if episode.primary_clinician else None,
                "waitlisted_on": episode.waitlisted_on,
                "admitted_on": episode.admitted_on,
                "expected_discharge_on": episode.expected_discharge_on,
            },
        )
        super().__init__(*args, **kwargs)

    def setup_fields(self) -> None:
        self.limit_to_program(self.episode.program)
        track = self.fields["track"]
        if self.episode.track is not None and not self.episode.track.is_active:
            # Keep a retired track selectable on episodes that already use it.
            track.queryset = track.queryset | Track.objects.filter(pk=self.episode.track.pk)  # type: ignore[attr-defined]
        if self.episode.status == EpisodeOfCare.Status.WAITLIST:
            del self.fields["admitted_on"]

    def action_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class EpisodeStatusForm(PatientsForm):
    LABELS = {
        (EpisodeOfCare.Status.WAITLIST, EpisodeOfCare.Status.ACTIVE): "Admit from the waitlist",
        (EpisodeOfCare.Status.WAITLIST, EpisodeOfCare.Status.DISCHARGED): "Close without admission",
        (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.ON_HOLD): "Put on hold",
        (EpisodeOfCare.Status.ACTIVE, EpisodeOfCare.Status.DISCHARGED): "Discharge",
        (EpisodeOfCare.Status.ON_HOLD, EpisodeOfCare.Status.ACTIVE): "Resume (active)",
        (EpisodeOfCare.Status.ON_HOLD, EpisodeOfCare.Status.DISCHARGED): "Discharge",
    }

    status = forms.ChoiceField(label="Change to", widget=forms.RadioSelect(attrs={"class": "form-check-input"}))
    on_date = forms.DateField(
        label="Effective date", widget=DateInput(), help_text="Admission or discharge date, in the program's time zone."
    )
    discharge_reason = forms.ChoiceField(
        label="Discharge reason",
        required=False,
        choices=[("", "Pick a reason"), *EpisodeOfCare.DischargeReason.choices],
        help_text="Needed when discharging (TEDS-D reason for discharge).",
    )

    def __init__(self, *args: Any, episode: EpisodeOfCare, **kwargs: Any) -> None:
        self.episode = episode
        kwargs.setdefault("initial", {"on_date": episode.program.now().date()})
        super().__init__(*args, **kwargs)

    def setup_fields(self) -> None:
        current = EpisodeOfCare.Status(self.episode.status)
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (s.value, self.LABELS.get((current, s), s.label)) for s in self.episode.allowed_next_statuses()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == EpisodeOfCare.Status.DISCHARGED and not data.get("discharge_reason"):
            self.add_error("discharge_reason", "Give the discharge reason.")
        if data.get("status") != EpisodeOfCare.Status.DISCHARGED:
            data["discharge_reason"] = ""
        return data


class CareTeamForm(PatientsForm):
    """One role picker per eligible staff member of the episode's program; blank means not on the team."""

    ROLE_CHOICES = [
        ("", "Not on the team"),
        *[(v, label) for v, label in CareTeamMember.TeamRole.choices if v != CareTeamMember.TeamRole.PRIMARY],
    ]

    def __init__(self, *args: Any, episode: EpisodeOfCare, **kwargs: Any) -> None:
        self.episode = episode
        self.staff: list[User] = []
        super().__init__(*args, **kwargs)

    def setup_fields(self) -> None:
        current = {m.user_id: m.team_role for m in self.episode.team_members.all()}
        self.staff = [
            u for u in staff_of_program(self.episode.program, CARE_TEAM_ROLES)
            if u.pk != self.episode.primary_clinician_id
        ]  # fmt: skip
        for user in self.staff:
            self.fields[self.field_name(user)] = forms.ChoiceField(
                label=user.display_name,
                choices=self.ROLE_CHOICES,
                required=False,
                initial=current.get(user.pk, ""),
            )

    @staticmethod
    def field_name(user: User) -> str:
        return f"member_{user.public_id.hex}"

    def rows(self) -> list[tuple[User, forms.BoundField]]:
        return [(u, self[self.field_name(u)]) for u in self.staff]

    def members(self) -> list[tuple[User, str]]:
        return [(u, self.cleaned_data[self.field_name(u)]) for u in self.staff if self.cleaned_data[self.field_name(u)]]


# --- Emergency access (break-the-glass) ----------------------------------------------------------------------


class EmergencyLookupForm(PatientsForm):
    """An exact MRN, or last and first name with the birth date: emergency access never browses."""

    mrn = forms.CharField(label="MRN", max_length=32, required=False)
    last = forms.CharField(label="Legal last name", max_length=100, required=False)
    first = forms.CharField(label="Legal first name", max_length=100, required=False)
    dob = forms.DateField(label="Date of birth", required=False, widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("mrn") or "").strip() and not (
            (data.get("last") or "").strip() and (data.get("first") or "").strip() and data.get("dob")
        ):
            raise ValidationError("Enter the MRN, or the legal last name, first name and date of birth.")
        return data


class EmergencyGrantForm(PatientsForm):
    patient = forms.UUIDField(widget=forms.HiddenInput)
    reason_category = forms.ChoiceField(
        label="Reason", choices=[("", "Choose a reason"), *EmergencyAccessGrant.ReasonCategory.choices]
    )
    reason = forms.CharField(
        label="What is the emergency, and why can the patient's own team not help now?",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # 42 CFR §2.51(c): shown and required when the patient has Part 2 records without a consent that covers them.
    part2_recipient_name = forms.CharField(
        label="Medical personnel receiving the records", max_length=200, required=False
    )
    part2_recipient_affiliation = forms.CharField(label="Their affiliation", max_length=200, required=False)
    part2_emergency_nature = forms.CharField(
        label="Nature of the medical emergency",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label="I understand this access is recorded, reviewed, and limited to this emergency.", required=True
    )

    def action_fields(self) -> dict[str, Any]:
        names = ("reason_category", "reason", "part2_recipient_name", "part2_recipient_affiliation")
        return {n: self.cleaned_data[n] for n in (*names, "part2_emergency_nature")}


class EmergencyReviewForm(PatientsForm):
    outcome = forms.ChoiceField(label="Outcome", choices=EmergencyAccessGrant.Outcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label="Note",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when the access was inappropriate: what happened and what follows.",
    )
