"""Fixtures for the measures tests: an admitted patient's episode, and a real local SMTP server."""

from __future__ import annotations

import pytest

from openiop.patients.models import EpisodeOfCare
from openiop.testing.fixtures import Clinic, make_patient


@pytest.fixture
def episode(patient) -> EpisodeOfCare:
    return patient.episodes.select_related("program__site").get()


@pytest.fixture
def su_patient(clinic: Clinic):
    """A patient in the substance-use program (42 CFR Part 2), with the director on the care team."""
    return make_patient(clinic, clinic.su, legal_first_name="Casey", legal_last_name="Morrow")
