"""A web worker starts without OR-Tools (most of its memory): only placing admissions imports it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_loading_every_url_and_view_does_not_import_ortools():
    code = (
        "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'openiop.settings'); django.setup();"
        "import openiop.urls, openiop.scheduling.views, openiop.scheduling.placement, openiop.api.urls;"
        "print('ortools' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603
    assert result.stdout.strip() == "False"
