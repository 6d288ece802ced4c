"""What a patient takes on a day: the labs app's input for telling an expected drug-test result from one that is not."""

from __future__ import annotations

from datetime import date

from openiop.medications import formulary
from openiop.medications.models import Medication
from openiop.medications.queries import active_ingredients, on_moud
from openiop.testing.scheduling import admit

DAY = date(2026, 11, 10)


def _add(episode, user, key="", **fields):
    item = formulary.item(key) if key else None
    values = {
        "patient": episode.patient,
        "episode": episode,
        "recorded_by": user,
        "formulary_key": key,
        "name": item.name if item else fields.pop("name", "Something"),
        "ingredients": [i.name for i in item.ingredients] if item else [],
        "rxcuis": [i.rxcui for i in item.ingredients] if item else [],
        "is_moud": item.moud if item else False,
    }
    values.update(fields)
    return Medication.objects.create(**values)


def test_what_is_taken_on_a_day_counts_and_what_stopped_before_it_does_not(clinic):
    episode = admit(clinic, "Casey", program=clinic.su)
    _add(episode, clinic.clinician, "buprenorphine-naloxone-film", start_date=date(2026, 10, 1))
    _add(episode, clinic.clinician, "lorazepam", start_date=date(2026, 9, 1), stop_date=date(2026, 11, 9))
    _add(episode, clinic.clinician, "sertraline", start_date=date(2026, 11, 11))  # not yet
    _add(episode, clinic.clinician, name="Gabapentin (typed)")  # free entry, dates unknown
    assert active_ingredients(episode.patient, DAY) == {"buprenorphine", "naloxone", "gabapentin (typed)"}
    assert on_moud(episode.patient, DAY) and not on_moud(episode.patient, date(2026, 9, 30))


def test_every_formulary_item_is_coded_and_moud_is_what_the_rules_say():
    keys = [i.key for i in formulary.ITEMS]
    assert len(keys) == len(set(keys))
    for item in formulary.ITEMS:
        assert item.ingredients and all(i.rxcui.isdigit() and i.name == i.name.lower() for i in item.ingredients)
    moud = {i.key for i in formulary.ITEMS if i.moud}
    assert moud == {"buprenorphine-naloxone-film", "buprenorphine-sl", "buprenorphine-er-injection", "methadone-otp",
                    "naltrexone-er-injection"}  # fmt: skip
