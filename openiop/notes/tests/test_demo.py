"""The demo's notes: signed individual notes, one overdue draft, one awaiting co-signature and a group note, the
same after a second run."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from openiop.core.audit import verify_chain
from openiop.demo.clinic import ensure_demo_clinic
from openiop.demo.notes import ensure_demo_notes
from openiop.demo.scheduling import ensure_demo_schedule
from openiop.notes.models import GroupNote, ProgressNote
from openiop.testing.clock import moving_clock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_demo_notes_cover_every_state_and_are_idempotent(monkeypatch):
    # A weekday: the group note goes on today's group session, and a weekend has none.
    moving_clock(monkeypatch, datetime(2026, 11, 25, 11, tzinfo=ZoneInfo("America/New_York")))
    today = timezone.localdate()
    demo = ensure_demo_clinic(today)
    ensure_demo_schedule(demo.organization, today)
    made = ensure_demo_notes(demo.organization, today)
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
    first = sorted(notes.values_list("pk", "status", "updated_at"))
    assert ensure_demo_notes(demo.organization, today) == 0
    assert sorted(notes.values_list("pk", "status", "updated_at")) == first
    assert verify_chain() == []
