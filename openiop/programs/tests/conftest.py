from __future__ import annotations

import pytest

from openiop.core.roles import Role
from openiop.testing.fixtures import staff


@pytest.fixture
def other_sysadmin(clinic):
    """A system administrator of the other organization: must not reach anything of the clinic's."""
    return staff(clinic.other_org, "othersysadmin", Role.SYSADMIN, [])
