from __future__ import annotations

import pytest

from .helpers import CLINICAL_ROLES


@pytest.fixture
def mfa_on(settings):
    """Enforce the second factor for the clinical roles, as production does (the root conftest turns it off).

    django-otp's per-device back-off is off so consecutive wrong codes are all checked; the back-off
    has its own test.
    """
    settings.MFA_REQUIRED_ROLES = CLINICAL_ROLES
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    return settings
