"""Education materials a program offers to the families and support people of its patients.

What a family member may see of the patient's own record is not stored here: it is decided on every request by
``consents.checks.may_disclose`` (see ``access.py``). A material is program content, not patient data, but which
program's materials a family member reads says where the patient is treated, so they are shown only under an
active release that names education materials, and only the materials of the program(s) that signed it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from openiop.core.models import BaseModel


class EducationMaterial(BaseModel):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="education_materials")
    title = models.CharField(max_length=150)
    summary = models.CharField(max_length=300, help_text="One or two sentences shown in the list.")
    body = models.TextField(blank=True, help_text="Plain text; blank lines start new paragraphs.")
    link = models.URLField(blank=True, help_text="Optional: a page or video elsewhere (opens outside OpenIOP).")
    sequence = models.PositiveSmallIntegerField(default=0, help_text="Lower numbers come first.")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["program", "sequence", "title"]
        constraints = [models.UniqueConstraint(fields=["program", "title"], name="education_material_unique_title")]

    def __str__(self) -> str:
        return self.title
