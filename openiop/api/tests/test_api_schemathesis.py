"""The whole API against its own OpenAPI document (Schemathesis, in-process over WSGI): every operation, with
every check (no server error, documented status codes, content types and response bodies, ...), as a director
of a seeded clinic with patients, episodes, a treatment plan, a session and notes. Path ids are swapped for the
seeded records' ids, so the generated bodies reach the actions, not only the 404s.

The example count is small and derandomized so CI stays fast and reproducible; OPENIOP_SCHEMATHESIS_EXAMPLES=50
runs a deeper local search (see openiop/api/README.md)."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.config import SchemathesisConfig

from openiop.api.models import ApiToken, hash_token
from openiop.testing import intake as intake_fixtures
from openiop.testing import measures as measure_fixtures
from openiop.testing import notes as note_fixtures
from openiop.testing import plans as plan_fixtures
from openiop.testing import referrals as referral_fixtures
from openiop.testing.fixtures import make_patient

pytestmark = pytest.mark.schemathesis

# Every check, as configured by default, but one: a body valid by the schema may still name a record that does not
# exist or break a rule of the domain, which the API answers with a 422 naming the field, or hold a NUL character,
# which it refuses with a 400 (both documented on every operation; openiop/api/README.md).
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2XX", "400", "401", "403", "404", "409", "422"]}}}
)
EXAMPLES = int(os.environ.get("OPENIOP_SCHEMATHESIS_EXAMPLES", "1"))
TIMINGS = bool(os.environ.get("OPENIOP_SCHEMATHESIS_TIMINGS"))


def _seed(clinic: Any) -> dict[str, str]:
    """The records the generated requests aim at, by path parameter name."""
    clinician = clinic.people["clinician"]
    patient = make_patient(clinic)
    episode = patient.episodes.get()
    version = plan_fixtures.active(patient, clinician)
    session = note_fixtures.group_session(clinic.mh, facilitators=(clinician,))
    note_fixtures.attend(session, episode, clinician)
    from openiop.notes import actions

    note = actions.do_create_note(patient, acting_user=clinician, episode=episode, session=None)
    administration = measure_fixtures.start(patient, clinician, "gad7")
    assessment = intake_fixtures.start(patient, clinician)
    referral = referral_fixtures.make_referral(clinic)
    raw = ApiToken.generate()
    ApiToken.objects.create(user=clinician, name="schemathesis", token_hash=hash_token(raw))
    return {
        "token": raw,
        "patient_id": str(patient.public_id),
        "episode_id": str(episode.public_id),
        "program_id": str(clinic.mh.public_id),
        "session_id": str(session.public_id),
        "note_id": str(note.public_id),
        "version_id": str(version.public_id),
        "administration_id": str(administration.public_id),
        "assessment_id": str(assessment.public_id),
        "referral_id": str(referral.public_id),
    }


@pytest.fixture
def wsgi_app():
    """The WSGI application, kept on the test's connection: Django's test client also keeps the request
    signals from closing it (its transaction holds the test's data)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_every_operation_conforms(clinic, wsgi_app):
    ids = _seed(clinic)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app, config=CONFIG)
    headers = {"Authorization": f"Bearer {ids['token']}"}
    failures: list[str] = []
    operations = cases = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid operation fails the test here
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            phases=[Phase.explicit, Phase.generate],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            nonlocal cases
            cases += 1
            for name in case.path_parameters or {}:
                if name in ids:
                    case.path_parameters[name] = ids[name]
            case.call_and_validate(headers=headers)

        started = time.monotonic()
        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's first failure, reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:2000]}")
        if TIMINGS:
            print(f"{time.monotonic() - started:6.2f}s {operation.method.upper()} {operation.path}")
    assert operations > 90
    if os.environ.get("OPENIOP_SCHEMATHESIS_REPORT"):
        with open(os.environ["OPENIOP_SCHEMATHESIS_REPORT"], "w") as report:
            report.write(f"{operations} operations, {cases} cases, {len(failures)} failing\n\n" + "\n\n".join(failures))
    assert not failures, "\n\n".join(failures)
