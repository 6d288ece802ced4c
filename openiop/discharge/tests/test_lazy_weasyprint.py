"""The app starts without WeasyPrint (it needs Pango): only rendering a discharge PDF imports it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_loading_the_discharge_views_and_api_does_not_import_weasyprint():
    code = (
        "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'openiop.settings'); django.setup();"
        "import openiop.urls, openiop.discharge.views, openiop.discharge.pdf, openiop.api.discharge;"
        "print('weasyprint' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603
    assert result.stdout.strip() == "False"
