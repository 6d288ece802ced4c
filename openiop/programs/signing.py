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
from django.core.exceptions import ValidationError

from openiop.accounts.models import User
from openiop.core.roles import COMMON_CREDENTIALS, Role
from openiop.programs.models import Program

CLINICAL_ROLES = (Role.DIRECTOR, Role.CLINICIAN, Role.SUPERVISED_CLINICIAN)


def _norm(values: Any) -> list[str]:
    return [str(v).strip().upper() for v in values or [] if str(v).strip()]


def credentials_of(user: User) -> set[str]:
    """The user's credentials as typed ("LCSW, CADC" or "LCSW/CADC"), upper-cased."""
    return {c.upper() for c in re.split(r"[\s,;/]+", user.credentials or "") if c}


def accepted_credentials(program: Program) -> list[str]:
    """The program's list, or the organization-wide default when it keeps none (read at call time)."""
    return own_or_default(program.signing_credentials, default_credentials())


def default_credentials() -> list[str]:
    return _norm(settings.OPENIOP_DEFAULTS["signing_credentials"])


def default_supervised_credentials() -> list[str]:
    return _norm(settings.OPENIOP_DEFAULTS["supervised_signing_credentials"])


def own_or_default(own: Any, default: list[str]) -> list[str]:
    return _norm(own) or default


def known_credentials(program: Program) -> list[str]:
    """What a program admin chooses from: the default lists, the credentials staff records offer, then any the
    program keeps beyond them."""
    known: list[str] = []
    for value in [
        *default_credentials(),
        *default_supervised_credentials(),
        *_norm(COMMON_CREDENTIALS),
        *_norm(program.signing_credentials),
        *_norm(program.supervised_signing_credentials),
    ]:
        if value not in known:
            known.append(value)
    return known


def supervised_credentials(program: Program) -> list[str]:
    return own_or_default(program.supervised_signing_credentials, default_supervised_credentials())


def signing_refusal(user: User, program: Program, document: str, *, handed_over: bool = True) -> str:
    """Why ``user`` may not sign ``document`` ("an assessment", "a treatment plan", "a progress note") in
    ``program``; empty when they may. ``handed_over`` False for a document nobody else may sign for them (a progress
    note, signed by the clinician who gave the service): the message then offers no hand-over."""
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
    then = "Save it as a draft and hand it over." if handed_over else "A clinician within scope writes and signs it."
    return f"Signing {document} needs a clinical credential this program accepts ({shown}); {why}. {then}"


def may_sign(user: User, program: Program, document: str) -> bool:
    return not signing_refusal(user, program, document)


def signers_for(program: Program, document: str, *, exclude: User | None = None) -> list[User]:
    """The program's active staff who may sign ``document``, by name: whom a draft is handed over to. One query
    (the credential check is done here, on the few clinical staff of the program)."""
    staff = (
        User.objects.filter(is_active=True, role__in=CLINICAL_ROLES, memberships__program_id=program.pk)
        .order_by("last_name", "first_name", "username")
        .distinct()
    )
    if exclude is not None:
        staff = staff.exclude(pk=exclude.pk)
    return [u for u in staff if may_sign(u, program, document)]


def checked_list(program: Program, field: str, values: Any) -> list[str]:
    """A list sent for ``field`` (``signing_credentials`` or ``supervised_signing_credentials``), upper-cased and
    without repeats; every value must be one of ``known_credentials``, else an error naming the field. Empty means
    the organization's default list."""
    if not isinstance(values, list | tuple):
        raise ValidationError({field: "Give a list of credentials."})
    known = set(known_credentials(program))
    cleaned: list[str] = []
    for value in _norm(values):
        if value not in known:
            raise ValidationError(
                {field: f"{value[:20]} is not a known credential: use one of {', '.join(sorted(known))}."}
            )
        if value not in cleaned:
            cleaned.append(value)
    return cleaned
