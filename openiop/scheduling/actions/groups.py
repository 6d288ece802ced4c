"""Groups (cohorts inside a track) and the education curriculum's topics; both atomic and audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from openiop.core.actions import apply_changes
from openiop.core.models import AuditAction
from openiop.programs.models import Program, Track
from openiop.scheduling.actions.common import full_clean, organization_id_of, record_change
from openiop.scheduling.models import CurriculumTopic, Group

if TYPE_CHECKING:
    from openiop.accounts.models import User


# --- Groups and the education curriculum ---------------------------------------------------------------------

GROUP_FIELDS = ("name", "capacity", "is_open", "is_active")
TOPIC_FIELDS = ("name", "description", "sequence", "is_active")


@transaction.atomic
def do_create_group(track: Track, *, acting_user: User | None, **fields: Any) -> Group:
    """A cohort inside a track; capacity defaults to the program's group cap."""
    group = Group(track=track)
    apply_changes(group, fields, GROUP_FIELDS)
    if not group.capacity:
        group.capacity = track.program.group_size_cap
    full_clean(group)
    if Group.objects.filter(track=track, name__iexact=group.name).exclude(pk=group.pk).exists():
        raise ValidationError({"name": "This track already has a group with that name."})
    group.save()
    record_change(AuditAction.CREATED, acting_user, group, organization_id_of(track.program), fields)
    return group


@transaction.atomic
def do_update_group(group: Group, *, acting_user: User | None, **fields: Any) -> list[str]:
    changed = apply_changes(group, fields, GROUP_FIELDS)
    if changed:
        full_clean(group)
        if Group.objects.filter(track=group.track, name__iexact=group.name).exclude(pk=group.pk).exists():
            raise ValidationError({"name": "This track already has a group with that name."})
        group.save()
        record_change(AuditAction.UPDATED, acting_user, group, organization_id_of(group.track.program), changed)
    return changed


@transaction.atomic
def do_create_topic(program: Program, *, acting_user: User | None, **fields: Any) -> CurriculumTopic:
    """An education topic; rotating workshops cycle through active topics in ``sequence`` order."""
    topic = CurriculumTopic(program=program)
    apply_changes(topic, fields, TOPIC_FIELDS)
    if "sequence" not in fields:
        last = CurriculumTopic.objects.filter(program=program).order_by("-sequence").first()
        topic.sequence = (last.sequence + 1) if last else 1
    full_clean(topic)
    if CurriculumTopic.objects.filter(program=program, name__iexact=topic.name).exclude(pk=topic.pk).exists():
        raise ValidationError({"name": "This program already has a topic with that name."})
    topic.save()
    record_change(AuditAction.CREATED, acting_user, topic, organization_id_of(program), fields)
    return topic


@transaction.atomic
def do_update_topic(topic: CurriculumTopic, *, acting_user: User | None, **fields: Any) -> list[str]:
    changed = apply_changes(topic, fields, TOPIC_FIELDS)
    if changed:
        full_clean(topic)
        if CurriculumTopic.objects.filter(program=topic.program, name__iexact=topic.name).exclude(pk=topic.pk).exists():
            raise ValidationError({"name": "This program already has a topic with that name."})
        topic.save()
        record_change(AuditAction.UPDATED, acting_user, topic, organization_id_of(topic.program), changed)
    return changed
