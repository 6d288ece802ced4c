import pytest


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    """Uploaded referral documents go to a folder of this test, never the checkout's var/."""
    settings.VAR_DIR = tmp_path
