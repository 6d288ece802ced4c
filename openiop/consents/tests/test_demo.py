"""The demo clinic's intake assessments and consents: signed, varied, and one revoked release."""

from __future__ import annotations

from django.utils import timezone

from openiop.consents.checks import Recipient, may_disclose
from openiop.consents.models import Consent, ConsentStatus
from openiop.intake.models import IntakeAssessment


def test_the_demo_has_signed_intakes_and_consents_with_a_revoked_release(seeded_demo):
    org = seeded_demo.organization
    assessments = IntakeAssessment.objects.filter(patient__organization=org)
    assert assessments.count() >= 4
    assert all(a.is_signed and a.diagnoses.filter(is_primary=True).exists() for a in assessments)
    assert {r.framework for a in assessments for r in a.level_ratings.all()} >= {"asam4", "locus"}
    consents = list(Consent.objects.filter(patient__organization=org).select_related("program__site", "episode"))
    kinds = {c.kind for c in consents}
    assert kinds == {"treatment", "hipaa_notice", "telehealth", "part2", "release"}
    revoked = [c for c in consents if c.status == ConsentStatus.REVOKED]
    assert revoked and all(c.recipient_contact_id for c in revoked)
    for consent in revoked:
        decision = may_disclose(
            consent.patient,
            recipient=Recipient.contact(consent.recipient_contact),  # type: ignore[arg-type]
            data_class="attendance",
            purpose="treatment",
        )
        assert not decision.allowed
    # Signed on the admission morning (the demo's timeline), not on the day the demo was built; revoked later. The
    # family demo's release to its portal contact is signed today, when that login is made (demo/family.py), and so
    # is the methadone patient's Part 2 consent naming their OTP, when MOUD coordination is set up
    # (demo/medications.py).
    today = timezone.localdate()
    later = [c for c in consents if c.local_date(c.signed_at) != c.episode.admitted_on]  # type: ignore[union-attr]
    assert len(later) <= 3 and all(c.recipient_kind in ("support_contact", "outside_provider") for c in later)
    assert len(consents) - len(later) >= 25
    assert all(c.episode.admitted_on < today for c in consents)  # type: ignore[union-attr,operator]
    assert len({c.signed_at.date() for c in consents}) > 3
    for consent in revoked:
        assert consent.signed_at < consent.revoked_at < timezone.now()  # type: ignore[operator]
        assert consent.local_date(consent.revoked_at) < today  # type: ignore[arg-type]
    tpo = next(c for c in consents if c.kind == "part2" and c.recipient_kind == "tpo_general")
    assert may_disclose(tpo.patient, recipient=Recipient.payer(), data_class="attendance", purpose="payment")
