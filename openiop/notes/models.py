"""Progress notes and group notes: formats, required fields, signing, addenda, co-signature.

A ``ProgressNote`` is one person's note of one service: an individual session, a note outside any session, or a
participant's individualized part of a group note (``group_note`` set). A ``GroupNote`` holds the shared part of a
group session (topic, curriculum item, interventions, group size) written once; each participant's part is a
ProgressNote of its own, filed in that participant's chart alone. Signing locks a note; what comes later is an
addendum. Notes by supervised clinicians wait for their supervisor's co-signature.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class NoteFormat(models.TextChoices):
    SOAP = "soap", "SOAP"
    DAP = "dap", "DAP"
    BIRP = "birp", "BIRP"
    GIRP = "girp", "GIRP"


# Each format's sections, in order: the text fields of ProgressNote it shows. Intervention, response and plan are
# required of every note (docs/clinical-rules.md#progress-notes), so a format without them as sections (SOAP, DAP)
# shows them after its own.
FORMAT_SECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    NoteFormat.SOAP: (("subjective", "Subjective"), ("objective", "Objective"), ("assessment", "Assessment"),
                      ("plan", "Plan")),
    NoteFormat.DAP: (("data", "Data"), ("assessment", "Assessment"), ("plan", "Plan")),
    NoteFormat.BIRP: (("behavior", "Behavior"), ("intervention", "Intervention"), ("response", "Response"),
                      ("plan", "Plan")),
    NoteFormat.GIRP: (("goal", "Goal"), ("intervention", "Intervention"), ("response", "Response"),
                      ("plan", "Plan")),
}  # fmt: skip
REQUIRED_NARRATIVE = (("intervention", "Intervention"), ("response", "Response"), ("plan", "Plan"))
SECTION_FIELDS = ("subjective", "objective", "assessment", "data", "behavior", "goal", "intervention", "response",
                  "plan")  # fmt: skip


def narrative_fields(note_format: str) -> list[tuple[str, str]]:
    """The text fields a note in this format shows and requires: its sections, then any required one missing."""
    sections = list(FORMAT_SECTIONS[note_format])
    names = {name for name, _ in sections}
    plan = [s for s in sections if s[0] == "plan"]
    body = [s for s in sections if s[0] != "plan"]
    extra = [s for s in REQUIRED_NARRATIVE if s[0] not in names and s[0] != "plan"]
    return [*body, *extra, *plan]


class Mode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    TELEHEALTH = "telehealth", "Telehealth (video)"
    AUDIO_ONLY = "audio_only", "Telehealth (audio only)"


class RiskLevel(models.TextChoices):
    NONE = "none", "None identified"
    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"


# CMS place-of-service codes an IOP uses; free text of two digits is accepted too.
PLACE_OF_SERVICE_CHOICES = [
    ("02", "02 Telehealth, not in the patient's home"),
    ("10", "10 Telehealth in the patient's home"),
    ("11", "11 Office"),
    ("22", "22 On-campus outpatient hospital"),
    ("52", "52 Psychiatric facility, partial hospitalization"),
    ("53", "53 Community mental health center"),
    ("57", "57 Non-residential substance use treatment facility"),
    ("58", "58 Non-residential opioid treatment facility"),
]


class NotePolicy(BaseModel):
    """A program's note rules. A program without a row uses settings.OPENIOP_DEFAULTS (read at call time);
    ``notes.policy.policy_for(program)`` returns either."""

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="note_policy")
    default_format = models.CharField(max_length=4, choices=NoteFormat.choices, default=NoteFormat.BIRP)
    place_of_service = models.CharField(max_length=2, default="53", help_text="Default for in-person services.")
    telehealth_place_of_service = models.CharField(max_length=2, default="10")
    note_due_business_days = models.PositiveSmallIntegerField(default=3)
    crisis_note_due_hours = models.PositiveSmallIntegerField(default=24)

    class Meta:
        verbose_name_plural = "note policies"

    def __str__(self) -> str:
        return f"note policy {self.program_id}"


class GroupNote(BaseModel):
    """The shared part of a group session's note, written once. Participants' parts are ProgressNotes."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        LOCKED = "locked", "Locked"

    session = models.OneToOneField("scheduling.Session", on_delete=models.PROTECT, related_name="group_note")
    topic = models.CharField(max_length=120, blank=True)
    curriculum_item = models.ForeignKey(
        "scheduling.CurriculumTopic", null=True, blank=True, on_delete=models.PROTECT, related_name="group_notes"
    )
    interventions = models.TextField(blank=True, help_text="What the facilitators did with the group.")
    # A count only, taken from attendance when the note locks: never who the others were.
    group_size = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    locked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"group note {self.public_id}"

    @property
    def is_locked(self) -> bool:
        return self.status == self.Status.LOCKED


class GroupNoteSignature(models.Model):
    """One facilitator's signature of a group note; the note locks when every facilitator has signed."""

    group_note = models.ForeignKey(GroupNote, on_delete=models.PROTECT, related_name="signatures")
    facilitator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    credentials = models.CharField(max_length=60, blank=True)
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["group_note", "facilitator"], name="groupnote_one_signature_each")
        ]

    def __str__(self) -> str:
        return f"signature {self.group_note_id} {self.facilitator_id}"


class ProgressNote(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_COSIGN = "awaiting_cosign", "Awaiting co-signature"
        SIGNED = "signed", "Signed"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="progress_notes")
    episode = models.ForeignKey("patients.EpisodeOfCare", on_delete=models.PROTECT, related_name="progress_notes")
    session = models.ForeignKey(
        "scheduling.Session", null=True, blank=True, on_delete=models.PROTECT, related_name="progress_notes"
    )
    group_note = models.ForeignKey(GroupNote, null=True, blank=True, on_delete=models.PROTECT, related_name="parts")
    # A participant added to the roster after the group note locked: their part is written as an addendum to it.
    is_late_addition = models.BooleanField(default=False)
    format = models.CharField(max_length=4, choices=NoteFormat.choices)
    subjective = models.TextField(blank=True)
    objective = models.TextField(blank=True)
    assessment = models.TextField(blank=True)
    data = models.TextField(blank=True)
    behavior = models.TextField(blank=True)
    goal = models.TextField(blank=True)
    intervention = models.TextField(blank=True)
    response = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    service_date = models.DateField()
    start_time = models.DateTimeField(null=True, blank=True)
    stop_time = models.DateTimeField(null=True, blank=True)
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.IN_PERSON)
    place_of_service = models.CharField(max_length=2, blank=True)
    objectives = models.ManyToManyField("plans.Objective", blank=True, related_name="progress_notes")
    # The episode's diagnoses this service addressed (the claim's diagnosis pointers come from here).
    diagnoses = models.ManyToManyField("intake.Diagnosis", blank=True, related_name="progress_notes")
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    risk_notes = models.TextField(blank=True)
    is_crisis = models.BooleanField(default=False)
    # Copied from attendance into a participant's part (and shown on individual notes for a session).
    attendance_status = models.CharField(max_length=20, blank=True)
    minutes_attended = models.PositiveSmallIntegerField(null=True, blank=True)
    participation = models.CharField(max_length=12, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_notes")
    author_credentials = models.CharField(max_length=60, blank=True, help_text="Copied when the author signs.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="cosigned_notes"
    )
    cosigner_credentials = models.CharField(max_length=60, blank=True)
    cosigned_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()

    class Meta:
        ordering = ["-service_date", "-start_time", "-created_at"]
        indexes = [
            models.Index(fields=["patient", "service_date"]),
            models.Index(fields=["author", "status"]),
            models.Index(fields=["status", "due_at"]),
        ]
        constraints = [
            # One part per participant per group note; a late addition is that participant's one part.
            models.UniqueConstraint(
                fields=["group_note", "patient"], condition=Q(group_note__isnull=False), name="note_one_part_each"
            ),
            models.CheckConstraint(
                condition=Q(stop_time__isnull=True)
                | Q(start_time__isnull=True)
                | Q(stop_time__gt=models.F("start_time")),
                name="note_stops_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"progress note {self.public_id}"

    @property
    def is_locked(self) -> bool:
        return self.status != self.Status.DRAFT

    @property
    def is_group_part(self) -> bool:
        return self.group_note_id is not None

    def narrative(self) -> list[tuple[str, str, str]]:
        """(field, label, text) for each text field the note's format shows, in order."""
        return [(name, label, getattr(self, name)) for name, label in narrative_fields(self.format)]


class NoteAddendum(BaseModel):
    """Text added to a signed note (or group note) later; the note itself never changes once signed."""

    note = models.ForeignKey(ProgressNote, null=True, blank=True, on_delete=models.PROTECT, related_name="addenda")
    group_note = models.ForeignKey(GroupNote, null=True, blank=True, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_credentials = models.CharField(max_length=60, blank=True)
    text = models.TextField()
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "note addenda"
        constraints = [
            models.CheckConstraint(
                condition=Q(note__isnull=False, group_note__isnull=True)
                | Q(note__isnull=True, group_note__isnull=False),
                name="addendum_to_one_note",
            ),
        ]

    def __str__(self) -> str:
        return f"addendum {self.public_id}"
