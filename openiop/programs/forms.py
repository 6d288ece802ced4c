"""Forms of the administration pages.

Plain forms, not ModelForms: a bound ModelForm writes the typed values onto the instance while validating,
and the actions must see the unchanged record to know what changed (and to audit it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.db import models

from openiop.accounts.actions import SUPERVISOR_ROLES
from openiop.accounts.models import User
from openiop.core.forms import StyledFormMixin, TimeInput
from openiop.core.roles import Role
from openiop.programs import levels, signing
from openiop.programs.models import WEEKDAYS, Organization, Program, Site, Track, validate_time_zone

# Offered as suggestions in the time zone field; any IANA name is accepted.
COMMON_TIME_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
]


def model_field(model: type[models.Model], name: str, **kwargs: Any) -> forms.Field:
    """The form field Django derives from the model (label, length, choices, validators)."""
    field = model._meta.get_field(name).formfield(**kwargs)  # type: ignore[union-attr]
    assert field is not None
    return field


def initial_from(instance: models.Model, names: list[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in names}


class _Configured(forms.Form):
    """Calls configure() once the fields exist, before StyledFormMixin looks at them.

    The mixin validates a bound form while it is being built (to mark invalid fields), so querysets and
    per-request settings must already be in place by then: forms here inherit
    ``StyledFormMixin, _Configured`` and do their setup in configure(), never after super().__init__().
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.configure()

    def configure(self) -> None:
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs["class"] = "form-check-input"


class AdminForm(StyledFormMixin, _Configured):
    pass


class OrganizationForm(AdminForm):
    name = model_field(Organization, "name")
    phone = model_field(Organization, "phone")
    website = model_field(Organization, "website", assume_scheme="https")
    mrn_prefix = model_field(
        Organization, "mrn_prefix", label="MRN prefix", help_text="Starts every new medical record number."
    )


class SiteForm(AdminForm):
    name = model_field(Site, "name")
    address_line1 = model_field(Site, "address_line1", label="Address")
    address_line2 = model_field(Site, "address_line2", label="Address (line 2)")
    city = model_field(Site, "city")
    state = model_field(Site, "state")
    postal_code = model_field(Site, "postal_code", label="ZIP / postal code")
    phone = model_field(Site, "phone")
    time_zone = model_field(
        Site,
        "time_zone",
        validators=[validate_time_zone],
        help_text="IANA name, for example America/New_York.",
    )

    def configure(self) -> None:
        super().configure()
        self.fields["time_zone"].widget.attrs["list"] = "time-zones"


class ProgramForm(AdminForm):
    """Edit a program: every setting is required, since it is already set."""

    name = model_field(Program, "name")
    description = model_field(Program, "description", widget=forms.Textarea(attrs={"rows": 3}))
    focus = model_field(Program, "focus")
    population = model_field(Program, "population")
    level_of_care = forms.ChoiceField(
        label="Level of care",
        help_text="The minimum dose below is this level's: PHP 20 or more hours a week, IOP 9 (adolescents 6) to 19, "
        "OP under 9.",
    )
    weekly_dose_hours = model_field(
        Program,
        "weekly_dose_hours",
        label="Minimum dose (hours per week)",
        min_value=Decimal("0.5"),
        max_value=Decimal("60"),
    )
    max_length_weeks = model_field(
        Program, "max_length_weeks", label="Maximum length (weeks)", min_value=1, max_value=104
    )
    group_size_cap = model_field(Program, "group_size_cap", label="Group size cap", min_value=1, max_value=100)
    time_zone = model_field(
        Program,
        "time_zone",
        validators=[validate_time_zone],
        help_text="IANA name; decides what “today” means for the program.",
    )

    field_names = [
        "name",
        "description",
        "focus",
        "population",
        "level_of_care",
        "weekly_dose_hours",
        "max_length_weeks",
        "group_size_cap",
        "time_zone",
    ]

    def configure(self) -> None:
        super().configure()
        self.fields["time_zone"].widget.attrs["list"] = "time-zones"
        # The catalog is read at form time, so a clinic's own list shows at once.
        self.fields["level_of_care"].choices = levels.choices()  # type: ignore[attr-defined]


class ProgramCreateForm(ProgramForm):
    """Create a program: dose, length, cap and time zone may be left blank to take the defaults."""

    site = forms.ModelChoiceField(queryset=Site.objects.none(), empty_label=None)

    field_names = ["site", *ProgramForm.field_names]

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        self.organization = organization
        super().__init__(*args, **kwargs)

    def configure(self) -> None:
        super().configure()
        site = self.fields["site"]
        site.queryset = Site.objects.filter(organization=self.organization, is_active=True)  # type: ignore[attr-defined]
        self.order_fields(self.field_names)
        # Read at form time, not import time, so a changed setting shows at once.
        defaults = settings.OPENIOP_DEFAULTS
        adult = Program.default_dose_hours(Program.Population.ADULT)
        adolescent = Program.default_dose_hours(Program.Population.ADOLESCENT)
        placeholders = {
            "weekly_dose_hours": f"{plain_number(adult)} adult / {plain_number(adolescent)} adolescent in IOP; "
            "the level's own minimum otherwise",
            "max_length_weeks": str(defaults["max_length_weeks"]),
            "group_size_cap": str(defaults["group_size_cap"]),
            "time_zone": "The site's time zone",
        }
        for name, placeholder in placeholders.items():
            field = self.fields[name]
            field.required = False
            field.widget.attrs["placeholder"] = placeholder
            field.help_text = "Leave blank for the default shown."
        self.fields["time_zone"].help_text = "Leave blank to use the site's time zone (IANA name)."
        level = self.fields["level_of_care"]
        level.required = False
        level.initial = levels.default_code()


def plain_number(value: Decimal) -> str:
    """9.00 -> "9", 10.50 -> "10.5": hours as people write them."""
    return f"{value.normalize():f}"


class TrackForm(AdminForm):
    name = model_field(Track, "name")
    kind = model_field(Track, "kind")
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one weekday."},
    )
    start_time = forms.TimeField(widget=TimeInput())
    end_time = forms.TimeField(widget=TimeInput())

    field_names = ["name", "kind", "weekdays", "start_time", "end_time"]

    def configure(self) -> None:
        super().configure()
        # Shown as a row of toggle buttons: large targets on a tablet, still plain checkboxes underneath.
        self.fields["weekdays"].widget.attrs["class"] = "btn-check"


class ProgramChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.site.name}"


class StaffForm(AdminForm):
    """Edit a staff account (the username and the password are not changed here)."""

    first_name = model_field(User, "first_name", required=True)
    last_name = model_field(User, "last_name", required=True)
    email = model_field(User, "email", required=True)
    # No preselected role: every account's access is a deliberate choice.
    role = forms.ChoiceField(choices=[("", "Choose a role"), *Role.choices])
    credentials = model_field(User, "credentials")
    title = model_field(User, "title")
    phone = model_field(User, "phone")
    supervisor = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        help_text="Required for a supervised clinician: co-signs their notes and plans.",
    )
    programs = ProgramChoiceField(
        queryset=Program.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Staff see the patients of these programs only.",
    )

    field_names = [
        "first_name",
        "last_name",
        "email",
        "role",
        "credentials",
        "title",
        "phone",
        "supervisor",
        "programs",
    ]

    def __init__(self, *args: Any, organization: Organization, member: User | None = None, **kwargs: Any) -> None:
        self.organization = organization
        self.member = member
        super().__init__(*args, **kwargs)

    def configure(self) -> None:
        super().configure()
        organization, member = self.organization, self.member
        supervisors = User.objects.filter(organization=organization, is_active=True, role__in=SUPERVISOR_ROLES)
        programs = Program.objects.filter(site__organization=organization, is_active=True)
        if member is not None:
            supervisors = supervisors.exclude(pk=member.pk)
            # An inactive program the person still belongs to stays ticked rather than silently dropped.
            programs = Program.objects.filter(site__organization=organization).filter(
                models.Q(is_active=True) | models.Q(memberships__user=member)
            )
        self.fields["supervisor"].queryset = supervisors  # type: ignore[attr-defined]
        self.fields["programs"].queryset = programs.select_related("site").distinct()  # type: ignore[attr-defined]
        self.fields["credentials"].widget.attrs["list"] = "credentials"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("role") == Role.SUPERVISED_CLINICIAN:
            if not data.get("supervisor") and "supervisor" not in self.errors:
                self.add_error("supervisor", "A supervised clinician needs a supervisor to co-sign.")
        else:
            # Only supervised clinicians have one; a leftover choice would be misleading.
            data["supervisor"] = None
        return data

    def staff_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data[name] for name in self.field_names if name not in ("programs", "username")}


class StaffCreateForm(StaffForm):
    # The browser would otherwise fill in the administrator's own username.
    username = model_field(User, "username", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    set_password_later = forms.BooleanField(
        required=False,
        label="Set the password later",
        help_text="The account cannot log in until a password is set.",
    )
    # Passwords are never sent back to the browser, so a form re-shown with errors asks for them again.
    password1 = forms.CharField(
        label="Initial password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Initial password (again)",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_names = ["username", *StaffForm.field_names]

    def configure(self) -> None:
        super().configure()
        self.fields["password1"].help_text = " ".join(password_validation.password_validators_help_texts())
        self.order_fields([*self.field_names, "set_password_later", "password1", "password2"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("set_password_later"):
            data["password1"] = data["password2"] = ""
            return data
        password = data.get("password1") or ""
        if not password:
            self.add_error("password1", "Give an initial password, or tick “Set the password later”.")
            return data
        if password != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
            return data
        # The similarity check compares with the name and email just typed.
        candidate = User(
            username=data.get("username") or "",
            first_name=data.get("first_name") or "",
            last_name=data.get("last_name") or "",
            email=data.get("email") or "",
        )
        try:
            password_validation.validate_password(password, user=candidate)
        except forms.ValidationError as exc:
            self.add_error("password1", exc)
        return data

    def password(self) -> str | None:
        return self.cleaned_data.get("password1") or None


class SigningCredentialsForm(AdminForm):
    """Who may sign a program's clinical documents (scope of practice): the credentials accepted on their own, and
    those accepted from a supervised clinician. Ticking exactly the default list (or nothing) keeps following the
    organization's default, so a later change of the default reaches the program."""

    signing_credentials = forms.MultipleChoiceField(
        label="Credentials that sign on their own",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    supervised_signing_credentials = forms.MultipleChoiceField(
        label="Credentials that sign with a supervisor's co-signature",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        self.program = program
        self.defaults = {
            "signing_credentials": signing.default_credentials(),
            "supervised_signing_credentials": signing.default_supervised_credentials(),
        }
        super().__init__(*args, **kwargs)

    def configure(self) -> None:
        super().configure()
        choices = [(c, c) for c in signing.known_credentials(self.program)]
        for name, default in self.defaults.items():
            field = self.fields[name]
            assert isinstance(field, forms.MultipleChoiceField)
            field.choices = choices
            field.help_text = f"None ticked: the default list ({', '.join(default)})."
            field.initial = signing.own_or_default(getattr(self.program, name), default)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, default in self.defaults.items():
            if name in data and sorted(data[name]) == sorted(default):
                data[name] = []  # the default: keep following it
        return data
