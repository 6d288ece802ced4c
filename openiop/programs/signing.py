"""Scope of practice: who may sign a program's clinical documents (docs/clinical-rules.md#scope-of-practice).

An assessment with its diagnoses and level-of-care ratings, a treatment plan and a progress note are signed only
by a clinical role (director, clinician, supervised clinician) holding a credential the program accepts. A
supervised clinician may also sign with a pre-licensure credential from the program's supervised list; their
signature then waits for the supervisor's co-signature, as before. Everyone else drafts and hands over.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.programs.models import Program

CLINICAL_ROLES = (Role.DIRECTOR, Role.CLINICIAN, Role.SUPERVISED_CLINICIAN)


def _norm(values: Any) -> list[str]:
    return [str(v).strip().upper() for v in values or [] if str(v).strip()]


def credentials_of(user: User) -> set[str]:
    """The user's credentials as typed ("LCSW, CADC" or "LCSW/CADC"), upper-cased."""
    return {c.upper() for c in re.split(r"[\s,;/]+", user.credentials or "") if c}


def accepted_credentials(program: Program) -> list[str]:
    """The program's list, or the organization-wide default when it keeps none (read at call time)."""
    return _norm(program.signing_credentials) or _norm(settings.OPENIOP_DEFAULTS["signing_credentials"])


def supervised_credentials(program: Program) -> list[str]:
    own = _norm(program.supervised_signing_credentials)
    return own or _norm(settings.OPENIOP_DEFAULTS["supervised_signing_credentials"])


def signing_refusal(user: User, program: Program, document: str) -> str:
    """Why ``user`` may not sign ``document`` ("an assessment", "a treatment plan", "a progress note") in
    ``program``; empty when they may."""
    accepted = accepted_credentials(program)
    allowed = set(accepted)
    if user.role == Role.SUPERVISED_CLINICIAN:
        allowed |= set(supervised_credentials(program))
    held = credentials_of(user)
    if user.role in CLINICAL_ROLES and held & allowed:
        return ""
    shown = ", ".join(accepted[:4]) + (", …" if len(accepted) > 4 else "")
    why = f"yours: {', '.join(sorted(held)) or 'none'}"
    if user.role not in CLINICAL_ROLES:
        why += f" ({user.get_role_display().lower()} is not a clinical role)"
    return (
        f"Signing {document} needs a clinical credential this program accepts ({shown}); {why}. "
        "Save it as a draft and hand it over."
    )
