"""The production build: `openiop collectstatic` with HTTPS on (hashed, compressed files) and a page served from it.

Both steps run in subprocesses because the settings read the environment once, at import: this is what
`make serve` and docs/operations.md do on a fresh clone, minus gunicorn (the WSGI app is the same).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.deploy

# Fetch the staff login page and the static files it names, through the whole middleware stack (WhiteNoise
# serves /static/ from STATIC_ROOT); the login page reads no table, so no database is needed.
FETCH = """
import json, os, re
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "openiop.settings"
django.setup()
from django.test import Client
client = Client()
page = client.get("/accounts/login/", secure=True)
urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.content.decode())
statics = {url: client.get(url, secure=True).status_code for url in urls}
print(json.dumps({"status": page.status_code, "statics": statics}))
"""


def _production_env(tmp_path) -> dict[str, str]:
    dropped = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "STATIC_MANIFEST"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        {
            "HTTPS": "true",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "AUDIT_HMAC_KEYS": f"k1:{secrets.token_urlsafe(40)}",
            "ALLOWED_HOSTS": "testserver",
            "OPENIOP_VAR_DIR": str(tmp_path / "var"),
            "STATIC_ROOT": str(tmp_path / "static"),
        }
    )
    return env


def test_collectstatic_builds_the_production_files_and_pages_use_them(tmp_path):
    env = _production_env(tmp_path)
    build = subprocess.run(
        [sys.executable, "-m", "openiop.cli", "collectstatic", "--no-input"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # A vendored file naming a missing source map failed here once ("...min.js.map could not be found").
    assert build.returncode == 0, build.stdout + build.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    # Any page naming a file the manifest lacks answers 500 in production ("Missing staticfiles manifest entry").
    openiop = Path(__file__).resolve().parents[2]
    named = {
        name
        for template in openiop.glob("**/templates/**/*.html")
        for name in re.findall(r"{% static ['\"]([^'\"]+)['\"]", template.read_text())
    }
    assert named and named <= set(manifest), named - set(manifest)

    served = subprocess.run(  # noqa: S603 (our own interpreter and the fixed script above)
        [sys.executable, "-c", FETCH], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert served.returncode == 0, served.stderr
    result = json.loads(served.stdout.strip().splitlines()[-1])
    assert result["status"] == 200
    statics = result["statics"]
    assert any(url.startswith("/static/vendor/bootstrap.min.") for url in statics)
    # Every static URL in the page is the hashed name from the manifest, and it is served.
    for url, status in statics.items():
        name = url.rsplit("/", 1)[1]
        assert len(name.split(".")) >= 3, url  # e.g. openiop.636a80889b67.css
        assert status == 200, url
