"""Drug and alcohol testing: panels, schedules and their picks, orders, collections, per-analyte results, imports.

Everything here about a person in a substance-use program is 42 CFR Part 2 information: read through the patient's
chart access (``queries``), every read audited, disclosed only under a consent (``consents.may_disclose``), never
named in a reminder or in a work-queue task's reason.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel
from openiop.labs import interpret


class Panel(BaseModel):
    """The analytes a program (or, with no program, the whole organization) tests for. With neither, orders use
    ``analytes.DEFAULT_PANEL``."""

    organization = models.ForeignKey("programs.Organization", on_delete=models.CASCADE, related_name="+")
    program = models.OneToOneField(
        "programs.Program", null=True, blank=True, on_delete=models.CASCADE, related_name="drug_test_panel"
    )
    name = models.CharField(max_length=80)
    analytes = models.JSONField(default=list, help_text="Analyte codes (labs.analytes), in this order.")

    def __str__(self) -> str:
        return f"panel {self.public_id}"


class TestingSchedule(BaseModel):
    """How a program orders tests: a random N% of its active patients each week, or everyone on fixed weekdays."""

    __test__ = False  # not a pytest test class

    class Mode(models.TextChoices):
        RANDOM = "random", "Random selection each week"
        FIXED = "fixed", "Fixed weekdays"

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="testing_schedule")
    mode = models.CharField(max_length=6, choices=Mode.choices, default=Mode.RANDOM)
    percent = models.PositiveSmallIntegerField(
        default=25, validators=[MinValueValidator(1), MaxValueValidator(100)], help_text="Random mode."
    )
    weekdays = models.JSONField(default=list, blank=True, help_text="Fixed mode: 0 = Monday ... 6 = Sunday.")
    kind = models.CharField(max_length=12, default="cup")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(percent__gte=1, percent__lte=100), name="testing_percent_1_100")
        ]

    def __str__(self) -> str:
        return f"testing schedule {self.public_id}"


class SchedulePick(BaseModel):
    """One draw of a schedule, kept whole so anyone can check it: the seed, the population it drew from (episode
    public ids, sorted) and the episodes picked. ``selection.pick(population, percent, seed)`` gives the same picks
    again. For a fixed-weekday schedule the day is the test day and everyone is picked (no seed)."""

    schedule = models.ForeignKey(TestingSchedule, on_delete=models.PROTECT, related_name="picks")
    day = models.DateField(help_text="Random mode: the Monday of the week; fixed mode: the test day.")
    seed = models.BigIntegerField(null=True, blank=True)
    percent = models.PositiveSmallIntegerField(null=True, blank=True)
    population = models.JSONField(default=list)
    days = models.JSONField(default=list, help_text="The days the draw chose test days from (ISO dates).")
    picks = models.JSONField(default=list, help_text='[{"episode": public id, "due_on": ISO date}], in draw order.')

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["schedule", "day"], name="schedule_pick_once_per_day")]

    def __str__(self) -> str:
        return f"schedule pick {self.public_id}"


class TestOrder(BaseModel):
    __test__ = False  # not a pytest test class

    class Kind(models.TextChoices):
        CUP = "cup", "Point-of-care cup"
        LAB = "lab", "Lab send-out"
        BREATH = "breath", "Breathalyzer"

    class Reason(models.TextChoices):
        RANDOM = "random", "Random"
        SCHEDULED = "scheduled", "Scheduled"
        CLINICAL = "clinical", "Clinical"

    class Status(models.TextChoices):
        ORDERED = "ordered", "Ordered"
        COLLECTED = "collected", "Collected"
        RESULTED = "resulted", "Resulted"
        REFUSED = "refused", "Refused"
        UNABLE = "unable", "Unable to provide"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="drug_test_orders")
    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="drug_test_orders")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    reason = models.CharField(max_length=10, choices=Reason.choices)
    analytes = models.JSONField(default=list, help_text="The panel's codes when ordered.")
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ORDERED, db_index=True)
    # None: ordered by the testing schedule (``pick``).
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pick = models.ForeignKey(SchedulePick, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    # The clinician's review of the results (an unexpected one keeps the chart flag up until it is reviewed).
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-due_on", "-created_at"]
        indexes = [models.Index(fields=["patient", "due_on"]), models.Index(fields=["episode", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["pick", "episode"], name="one_order_per_pick_episode"),
        ]

    def __str__(self) -> str:
        return f"drug test order {self.public_id}"


class Collection(BaseModel):
    """The specimen (or the refusal) for one order, with its validity checks and chain of custody."""

    class Outcome(models.TextChoices):
        COLLECTED = "collected", "Collected"
        REFUSED = "refused", "Refused"
        UNABLE = "unable", "Unable to provide"

    class Check(models.TextChoices):
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"
        NOT_DONE = "", "Not done"

    order = models.OneToOneField(TestOrder, on_delete=models.PROTECT, related_name="collection")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.COLLECTED)
    collected_at = models.DateTimeField()
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    observed = models.BooleanField(default=False)
    specimen_id = models.CharField(max_length=40, blank=True)
    temperature_in_range = models.BooleanField(null=True, blank=True, help_text="Urine 32-38 °C within 4 minutes.")
    creatinine = models.CharField(max_length=4, choices=Check.choices, blank=True)
    ph = models.CharField("pH", max_length=4, choices=Check.choices, blank=True)
    specific_gravity = models.CharField(max_length=4, choices=Check.choices, blank=True)
    oxidants = models.CharField(max_length=4, choices=Check.choices, blank=True)
    # Chain of custody: the form, the seal, who took the specimen from the collector and when.
    custody_form = models.CharField("Custody form number", max_length=40, blank=True)
    sealed = models.BooleanField("Sealed in the donor's presence", default=False)
    released_to = models.CharField(max_length=120, blank=True, help_text="Courier or laboratory.")
    released_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            # A specimen id names one specimen: the key a lab's result is matched on.
            models.UniqueConstraint(fields=["specimen_id"], condition=~Q(specimen_id=""), name="unique_specimen_id"),
            models.CheckConstraint(
                condition=~Q(outcome="collected") | ~Q(specimen_id=""), name="collected_specimen_has_id"
            ),
        ]

    def __str__(self) -> str:
        return f"collection {self.public_id}"

    @property
    def validity_failed(self) -> bool:
        checks = (self.creatinine, self.ph, self.specific_gravity, self.oxidants)
        return self.temperature_in_range is False or Collection.Check.FAIL in checks


class LabImport(BaseModel):
    """One message or file received from a laboratory. The control id (HL7 MSH-10) and the content hash are unique
    per organization, so the same message is never posted twice."""

    class Format(models.TextChoices):
        HL7 = "hl7", "HL7 v2 ORU^R01"
        CSV = "csv", "CSV"

    organization = models.ForeignKey("programs.Organization", on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=4, choices=Format.choices)
    control_id = models.CharField(max_length=60, blank=True)
    content_hash = models.CharField(max_length=64)
    sending_facility = models.CharField(max_length=120, blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    result_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "content_hash"], name="lab_import_unique_content"),
            models.UniqueConstraint(
                fields=["organization", "control_id"], condition=~Q(control_id=""), name="lab_import_unique_control"
            ),
        ]

    def __str__(self) -> str:
        return f"lab import {self.public_id}"


class Result(BaseModel):
    class Outcome(models.TextChoices):
        POSITIVE = interpret.POSITIVE, "Positive"
        NEGATIVE = interpret.NEGATIVE, "Negative"
        INVALID = interpret.INVALID, "Invalid"

    class Interpretation(models.TextChoices):
        EXPECTED = interpret.EXPECTED, "Expected"
        UNEXPECTED = interpret.UNEXPECTED, "Unexpected"
        NOT_APPLICABLE = interpret.NOT_APPLICABLE, "Not applicable"

    class Confirmation(models.TextChoices):
        NONE = "", "Not requested"
        REQUESTED = "requested", "Requested"
        SENT_OUT = "sent_out", "Sent out"

    order = models.ForeignKey(TestOrder, on_delete=models.PROTECT, related_name="results")
    analyte = models.CharField(max_length=4)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    value = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    cutoff = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    units = models.CharField(max_length=20, blank=True)
    interpretation = models.CharField(max_length=15, choices=Interpretation.choices)
    interpretation_reason = models.CharField(max_length=400)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lab_import = models.ForeignKey(LabImport, null=True, blank=True, on_delete=models.PROTECT, related_name="results")
    confirmation = models.CharField(max_length=10, choices=Confirmation.choices, blank=True)
    confirmation_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmation_requested_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "analyte"]
        constraints = [models.UniqueConstraint(fields=["order", "analyte"], name="one_result_per_analyte")]

    def __str__(self) -> str:
        return f"result {self.public_id}"
