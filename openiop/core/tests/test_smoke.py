from openiop.core.audit import verify_chain
from openiop.core.models import AuditEvent


def test_clinic_builds_and_chain_verifies(clinic, patient):
    assert AuditEvent.objects.filter(patient=patient).count() == 2
    assert verify_chain() == []
