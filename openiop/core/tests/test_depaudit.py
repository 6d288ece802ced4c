"""`make audit` tells "no vulnerabilities" from "nothing was checked" (openiop/testing/depaudit.py)."""

from __future__ import annotations

import json
import subprocess

import pytest

from openiop.testing.depaudit import report


def _run(stdout: str = "", stderr: str = "", code: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(args=[], returncode=code, stdout=stdout, stderr=stderr)


def _deps(*deps: dict) -> str:
    return json.dumps({"dependencies": list(deps), "fixes": []})


@pytest.mark.parametrize(
    ("result", "code", "says"),
    [
        (_run(stderr="requests.exceptions.ConnectionError: Max retries exceeded", code=1), 0, "could not reach"),
        (_run(_deps({"name": "django", "skip_reason": "Dependency not found on PyPI"})), 0, "could not reach"),
        (
            _run(_deps({"name": "django", "version": "5.2.9", "vulns": []})),
            0,
            "1 packages checked against pypi, 0 vuln",
        ),
        (
            _run(
                _deps({"name": "django", "version": "5.2.0", "vulns": [{"id": "PYSEC-1", "fix_versions": ["5.2.1"]}]})
            ),
            1,
            "VULNERABLE django 5.2.0: PYSEC-1 (fixed in 5.2.1)",
        ),
        (_run(stderr="usage: pip-audit: bad flag", code=2), 2, "pip-audit failed"),
    ],
)
def test_the_audit_says_which_of_the_outcomes_happened(result, code, says):
    got, lines = report(result, "pypi")
    assert got == code
    assert says in "\n".join(lines)
