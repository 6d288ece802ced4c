"""Writes of the family app: the education materials a program offers families. Each is one transaction with its
audit row (field names only). Family page views are audited by ``access.record_view`` (a read, not a write)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.actions import apply_changes, validate
from openiop.core.models import AuditAction
from openiop.family.models import EducationMaterial
from openiop.programs.models import Program

MATERIAL_FIELDS = ("title", "summary", "body", "link", "sequence", "is_active")


def _strip(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}


def _check_unique_title(material: EducationMaterial) -> None:
    same = EducationMaterial.objects.filter(program=material.program, title__iexact=material.title)
    if same.exclude(pk=material.pk).exists():
        raise ValidationError({"title": "This program already has a material with that title."})


@transaction.atomic
def do_create_material(program: Program, *, acting_user: User | None, **fields: Any) -> EducationMaterial:
    """A material for the program's families; it is listed at once to every family member whose release names
    education materials from this program."""
    fields = _strip(fields)
    material = EducationMaterial(program=program, created_by=acting_user)
    apply_changes(material, fields, MATERIAL_FIELDS)
    if "sequence" not in fields:
        last = EducationMaterial.objects.filter(program=program).order_by("-sequence").first()
        material.sequence = (last.sequence + 1) if last else 1
    _check_unique_title(material)  # before the constraint, so the error names the field
    validate(material, exclude=["created_by"])
    material.save()
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        obj=material,
        changed_fields=sorted(fields),
        organization_id=program.site.organization_id,
    )
    return material


@transaction.atomic
def do_update_material(material: EducationMaterial, *, acting_user: User | None, **fields: Any) -> list[str]:
    """Change a material; ``is_active=False`` takes it off every family page (it is kept, never deleted)."""
    material = (
        EducationMaterial.objects.select_for_update(of=("self",)).select_related("program__site").get(pk=material.pk)
    )
    changed = apply_changes(material, _strip(fields), MATERIAL_FIELDS)
    if changed:
        _check_unique_title(material)
        validate(material, exclude=["created_by"])
        material.save()
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            obj=material,
            changed_fields=changed,
            organization_id=material.program.site.organization_id,
        )
    return changed
