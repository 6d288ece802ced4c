"""`make audit`: check the installed packages against a vulnerability database with pip-audit.

pip-audit lists a package it could not look up as skipped and still exits 0, and stops with a traceback when the
service cannot be reached; so an offline run would pass silently or look like a crash. This runs it with JSON output
and says plainly which of three things happened: no known vulnerability (exit 0), vulnerabilities (listed, exit 1),
or "could not reach the vulnerability database" (exit 0, nothing was checked). AUDIT_SERVICE picks pip-audit's
service: pypi (the default) or osv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

UNREACHABLE = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out", "Temporary failure")


def run_pip_audit(service: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip_audit", "--local", "--progress-spinner", "off", "--format", "json"]
    command += ["--vulnerability-service", service]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (our interpreter, fixed)


def report(result: subprocess.CompletedProcess[str], service: str) -> tuple[int, list[str]]:
    """The exit code and the lines to print for one pip-audit run."""
    try:
        data: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        if any(marker in result.stderr for marker in UNREACHABLE):
            last = result.stderr.strip().splitlines()[-1][:200] if result.stderr.strip() else ""
            return 0, [f"audit: could not reach the vulnerability database ({service}); nothing was checked. {last}"]
        return result.returncode or 1, [f"audit: pip-audit failed: {result.stderr.strip()[-500:]}"]
    dependencies = data.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    if not audited:
        why = skipped[0]["skip_reason"] if skipped else "no packages listed"
        return 0, [f"audit: could not reach the vulnerability database ({service}); nothing was checked ({why})"]
    lines = []
    vulnerable = [d for d in audited if d.get("vulns")]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            lines.append(f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
    lines.append(
        f"audit: {len(audited)} packages checked against {service}, {len(vulnerable)} vulnerable, {len(skipped)} "
        "skipped (not on the index: this project itself, or a service that answered for none)"
    )
    return (1 if vulnerable else 0), lines


def main() -> int:
    service = os.environ.get("AUDIT_SERVICE") or "pypi"
    if service not in {"pypi", "osv"}:
        print(f"audit: AUDIT_SERVICE is pypi or osv, not {service!r}")
        return 2
    code, lines = report(run_pip_audit(service), service)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
