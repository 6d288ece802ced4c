"""The demo's notes: signed individual notes, one overdue draft, one awaiting co-signature and a group note, the
same after a second run (core's demo test)."""

from __future__ import annotations

from django.utils import timezone

from openiop.core.audit import verify_chain
from openiop.notes.models import GroupNote, ProgressNote


def test_the_demo_notes_cover_every_state(seeded_demo):
    # The shared demo's day is a weekday: the group note goes on today's group session, and a weekend has none.
    demo = seeded_demo
    made = demo.seeded["notes"]
    notes = ProgressNote.objects.filter(patient__organization=demo.organization)
    assert made == notes.count() >= 5
    individual = notes.filter(group_note__isnull=True)
    assert individual.filter(status="signed").count() == 3
    assert all(n.diagnoses.exists() and n.objectives.exists() and n.author_credentials for n in
               individual.filter(status="signed"))  # fmt: skip
    now = timezone.now()
    assert individual.filter(status="draft", due_at__lt=now).count() == 1
    waiting = individual.get(status="awaiting_cosign")
    supervisor = waiting.author.supervisor
    assert waiting.author.username == "intern" and supervisor is not None and supervisor.username == "clinician"
    gn = GroupNote.objects.get(session__program__site__organization=demo.organization)
    assert gn.topic and gn.interventions
    parts = gn.parts.all()
    if gn.is_locked:
        assert parts and all(p.status == "signed" for p in parts) and gn.group_size == parts.count()
    else:
        assert gn.status == "draft" and all(p.status == "draft" and p.response for p in parts)
    assert verify_chain() == []
