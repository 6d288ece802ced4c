"""Shared setup for the labs tests: a substance-use patient with a primary clinician, their medications, and a
collected test."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.labs import actions
from openiop.labs.models import TestOrder
from openiop.medications import formulary
from openiop.medications.models import Medication
from openiop.patients.models import EpisodeOfCare
from openiop.testing.fixtures import staff
from openiop.testing.scheduling import admit


def su_clinician(clinic: Any) -> User:
    """A clinician of the substance-use program (the shared clinic has none)."""
    found = clinic.people.get("counselor")
    if found is None:
        found = clinic.people["counselor"] = staff(clinic.org, "counselor", Role.CLINICIAN, [clinic.su],
                                                   credentials="LADC")  # fmt: skip
    return found


def su_episode(clinic: Any, first_name: str = "Casey") -> EpisodeOfCare:
    episode = admit(clinic, first_name, program=clinic.su, admitted_days_ago=30)
    episode.primary_clinician = su_clinician(clinic)
    episode.save(update_fields=["primary_clinician"])
    return episode


def clinician_of(episode: EpisodeOfCare) -> User:
    assert episode.primary_clinician is not None
    return episode.primary_clinician


def take(episode: EpisodeOfCare, key: str, **fields: Any) -> Medication:
    item = formulary.item(key)
    assert item is not None
    return Medication.objects.create(
        patient=episode.patient, episode=episode, recorded_by=clinician_of(episode), formulary_key=key,
        name=item.name, ingredients=[i.name for i in item.ingredients], rxcuis=[i.rxcui for i in item.ingredients],
        is_moud=item.moud, start_date=timezone.localdate() - timedelta(days=20), **fields,
    )  # fmt: skip


def collected(episode: EpisodeOfCare, specimen_id: str = "S-1001", kind: str = "cup") -> TestOrder:
    user = clinician_of(episode)
    order = actions.do_order_test(episode, acting_user=user, kind=kind, reason="random", due_on=timezone.localdate())
    actions.do_record_collection(order, acting_user=user, collected_at=timezone.now() - timedelta(minutes=5),
                                 specimen_id=specimen_id, observed=True, temperature_in_range=True)  # fmt: skip
    order.refresh_from_db()
    return order


def resulted(clinic: Any, positives: tuple[str, ...] = ("BUP",)) -> TestOrder:
    """A substance-use patient on buprenorphine with one cup, resulted positive for ``positives``."""
    episode = su_episode(clinic)
    take(episode, "buprenorphine-sl")
    order = collected(episode)
    entered = [actions.ResultIn(code, "positive") for code in positives]
    actions.do_enter_results(order, acting_user=su_clinician(clinic), results=entered)
    return order
