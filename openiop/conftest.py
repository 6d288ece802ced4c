from __future__ import annotations

import pytest

from openiop.testing.fixtures import Clinic, build_clinic, make_patient


@pytest.fixture(autouse=True)
def _no_mfa_by_default(settings):
    """Most tests log in with force_login; the MFA tests switch enforcement back on."""
    settings.MFA_REQUIRED_ROLES = []


@pytest.fixture
def clinic(db) -> Clinic:
    return build_clinic()


@pytest.fixture
def patient(clinic):
    return make_patient(clinic)


def login(client, user):
    client.force_login(user)
    return client


from openiop.testing.browser import page  # noqa: E402, F401  (the headless-browser fixture)
